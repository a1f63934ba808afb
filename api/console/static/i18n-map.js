// The words of the address suggestions and the street map (places.js, map.js), merged into the one
// dictionary of i18n.js. The object literal is valid JSON (tests read it).
window.KEEPCAB_I18N_MAP = {
  "en": {
    "places.find": "Find",
    "places.find_hint": "Find the typed address with the geocoder",
    "places.own": "this caller",
    "places.uses": "{n}×",
    "places.none": "No known address like this: click the map or press Find",
    "places.found_none": "The geocoder knows no such address: click the map",
    "places.searching": "Searching…",
    "places.source.book": "known",
    "places.source.nominatim": "Nominatim",
    "places.source.photon": "Photon",
    "map.town": "No street tiles: the drawing shows the town's known addresses",
    "map.chosen": "pickup point"
  },
  "ru": {
    "places.find": "Найти",
    "places.find_hint": "Найти набранный адрес через геокодер",
    "places.own": "этого клиента",
    "places.uses": "{n}×",
    "places.none": "Такого адреса ещё не было: щёлкните по карте или нажмите «Найти»",
    "places.found_none": "Геокодер не знает такого адреса: щёлкните по карте",
    "places.searching": "Ищем…",
    "places.source.book": "известный",
    "places.source.nominatim": "Nominatim",
    "places.source.photon": "Photon",
    "map.town": "Без подложки: на схеме известные адреса города",
    "map.chosen": "точка подачи"
  }
};
for (const lang of Object.keys(window.KEEPCAB_I18N_MAP)) Object.assign(window.KEEPCAB_I18N[lang], window.KEEPCAB_I18N_MAP[lang]);
