// keepcab console map: Leaflet (vendored, static/vendor/leaflet), the tile URL from the server's
// settings (GET /places/map); without tiles the town is drawn from the firm's known addresses
// (GET /places/points) over a 500 m grid. Cars, waiting pickups and en-route lines are redrawn on
// every change; car labels are placed by labels.js so that none covers another or a marker.
"use strict";
window.KEEPCAB_MAP = (() => {
  const L = window.L, place = window.KEEPCAB_LABELS.place;
  let map = null, tiles = null, town = null, marks = null, labelBox = null, lines = null, onPick = null;
  let fitted = false, userMoved = false, last = null, layoutQueued = false;

  function init(element, pick) {
    onPick = pick;
    map = L.map(element, { zoomControl: true, attributionControl: true, zoomSnap: 0.25 }).setView([0, 0], 2);
    L.control.scale({ imperial: false }).addTo(map);
    marks = L.layerGroup().addTo(map);
    labelBox = L.DomUtil.create("div", "map-labels", map.getContainer());
    lines = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    lines.setAttribute("class", "map-leaders");
    labelBox.appendChild(lines);
    map.on("click", (e) => onPick && onPick(e.latlng.lat, e.latlng.lng));
    map.on("dragstart", () => { userMoved = true; });
    map.getContainer().addEventListener("wheel", () => { userMoved = true; }, { passive: true });
    map.on("move zoom resize", queueLayout);
    return map;
  }

  // Tiles when the firm has a tile server (KEEPCAB_MAP_TILE_URL), else the town from its addresses.
  function configure(settings, points) {
    if (tiles) { tiles.remove(); tiles = null; }
    if (town) { town.remove(); town = null; }
    const container = map.getContainer();
    container.classList.toggle("no-tiles", !settings.tile_url);
    if (settings.tile_url) {
      tiles = L.tileLayer(settings.tile_url, { maxZoom: 19, attribution: settings.attribution || "" }).addTo(map);
      return;
    }
    town = L.layerGroup([gridLayer()]).addTo(map);
    const renderer = L.canvas({ padding: 0.2 });
    for (const p of points || []) {
      L.circleMarker([p.lat, p.lon], { renderer, radius: 2, stroke: false, fillOpacity: 0.45, className: "town", interactive: false }).addTo(town);
    }
    if (points && points.length && !fitted) fit(points.map((p) => [p.lat, p.lon]));
  }

  // A 500 m grid drawn on canvas tiles: distances read off the map with no tile server at all.
  function gridLayer() {
    const Grid = L.GridLayer.extend({
      createTile(coords) {
        const tile = document.createElement("canvas"), size = this.getTileSize();
        tile.width = size.x; tile.height = size.y;
        const ctx = tile.getContext("2d"), nw = this._map.unproject(coords.scaleBy(size), coords.z);
        const se = this._map.unproject(coords.scaleBy(size).add(size), coords.z);
        const dLat = 500 / 111320, dLon = dLat / Math.max(0.1, Math.cos((nw.lat * Math.PI) / 180));
        ctx.strokeStyle = "#dde3ea"; ctx.lineWidth = 1;
        if ((nw.lat - se.lat) / dLat > 64) return tile; // zoomed far out: no grid
        for (let lat = Math.ceil(se.lat / dLat) * dLat; lat <= nw.lat; lat += dLat) {
          const y = ((nw.lat - lat) / (nw.lat - se.lat)) * size.y;
          ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(size.x, y); ctx.stroke();
        }
        for (let lon = Math.ceil(nw.lng / dLon) * dLon; lon <= se.lng; lon += dLon) {
          const x = ((lon - nw.lng) / (se.lng - nw.lng)) * size.x;
          ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, size.y); ctx.stroke();
        }
        return tile;
      },
    });
    return new Grid({ className: "town-grid" });
  }

  function fit(points) {
    if (!points.length) return;
    map.fitBounds(L.latLngBounds(points).pad(0.15), { maxZoom: 16, animate: false });
    fitted = true;
  }

  // state: {cars: [{driver_id, status, lat, lon, leaving}], waiting: [{order_id, pickup_lat, ...}],
  // routes: [[car, trip]], chosen: [lat, lon] | null, t: the dictionary lookup}
  function draw(state) {
    last = state;
    marks.clearLayers();
    const points = [];
    for (const [car, trip] of state.routes) {
      L.polyline([[car.lat, car.lon], [trip.pickup_lat, trip.pickup_lon]], { className: "route", interactive: false }).addTo(marks);
      L.circleMarker([trip.pickup_lat, trip.pickup_lon], { radius: 4, className: "meet", interactive: false }).addTo(marks);
    }
    for (const o of state.waiting) {
      if (o.pickup_lat == null) continue;
      points.push([o.pickup_lat, o.pickup_lon]);
      const icon = L.divIcon({ className: "pickup", iconSize: [10, 10] });
      L.marker([o.pickup_lat, o.pickup_lon], { icon, keyboard: false, title: o.pickup_address || o.order_id, interactive: false })
        .addTo(marks);
    }
    for (const d of state.cars) {
      if (d.lat == null) continue;
      points.push([d.lat, d.lon]);
      const marker = L.circleMarker([d.lat, d.lon], {
        radius: 6, className: `car ${d.status}${d.leaving ? " leaving" : ""}`, interactive: false,
      }).addTo(marks);
      marker.options.carId = d.driver_id;
    }
    if (state.chosen) L.circleMarker(state.chosen, { radius: 9, className: "chosen", interactive: false }).addTo(marks);
    const view = map.getBounds();
    if (points.length && (!fitted || (!userMoved && points.some((p) => !view.contains(p))))) fit(points);
    layout();
  }

  function queueLayout() {
    if (layoutQueued) return;
    layoutQueued = true;
    requestAnimationFrame(() => { layoutQueued = false; layout(); });
  }

  // One label per car, each at the nearest spot that covers no marker and no other label.
  function layout() {
    if (!last) return;
    const size = map.getSize(), cars = last.cars.filter((d) => d.lat != null);
    const seen = new Set();
    const items = [], obstacles = [];
    for (const d of cars) {
      const p = map.latLngToContainerPoint([d.lat, d.lon]);
      obstacles.push({ x: p.x - 7, y: p.y - 7, w: 14, h: 14 });
      const el = label(d.driver_id), box = el.getBoundingClientRect();
      seen.add(el); // a pixel of air around each label: sizes are fractional, positions rounded
      items.push({ id: d.driver_id, x: p.x, y: p.y, w: Math.ceil(box.width) + 2, h: Math.ceil(box.height) + 2, el });
    }
    for (const o of last.waiting) {
      if (o.pickup_lat == null) continue;
      const p = map.latLngToContainerPoint([o.pickup_lat, o.pickup_lon]);
      obstacles.push({ x: p.x - 6, y: p.y - 6, w: 12, h: 12 });
    }
    items.sort((a, b) => (a.id < b.id ? -1 : 1));
    const spots = place(items, obstacles, { x: 0, y: 0, w: size.x, h: size.y });
    const leaders = [];
    for (const it of items) {
      const spot = spots[it.id];
      it.el.classList.toggle("hidden", !spot);
      if (!spot) continue;
      it.el.style.transform = `translate(${Math.round(spot.x + 1)}px, ${Math.round(spot.y + 1)}px)`;
      if (spot.ring > 0) {
        const cx = Math.min(Math.max(it.x, spot.x), spot.x + it.w), cy = Math.min(Math.max(it.y, spot.y), spot.y + it.h);
        leaders.push(`<line x1="${it.x}" y1="${it.y}" x2="${cx}" y2="${cy}"/>`);
      }
    }
    for (const el of [...labelBox.querySelectorAll(".map-label")]) if (!seen.has(el)) el.remove();
    lines.setAttribute("width", size.x); lines.setAttribute("height", size.y);
    lines.innerHTML = leaders.join("");
  }

  function label(id) {
    let el = labelBox.querySelector(`.map-label[data-car="${CSS.escape(id)}"]`);
    if (!el) {
      el = L.DomUtil.create("div", "map-label", labelBox);
      el.dataset.car = id;
      el.textContent = id;
    }
    return el;
  }

  return { init, configure, draw, get leaflet() { return map; } };
})();
