// Label placement for the map: every label at the first free spot around its point, none over another.
// Pure (no DOM, no Leaflet): boxes in, positions out, so the page and its tests use the same code.
"use strict";
window.KEEPCAB_LABELS = (() => {
  // Eight directions, tried nearest ring first: right, left, above, below, then the diagonals.
  const DIRS = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [-1, -1], [1, 1], [-1, 1]];
  const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

  // items: [{id, x, y, w, h}] (x, y: the point; w, h: the label's size), obstacles: boxes to keep
  // clear (the markers themselves). Returns {id: {x, y, ring} | null}: the label's top-left corner
  // and how far out it went (ring 0 sits next to its point; further out, the page draws a leader
  // line), or null when no spot within `rings` rings and `bounds` is free (the label is hidden).
  function place(items, obstacles, bounds, options) {
    const gap = (options && options.gap) || 9, step = (options && options.step) || 14;
    const rings = (options && options.rings) || 7;
    const taken = obstacles.slice(), out = {};
    for (const it of items) {
      out[it.id] = null;
      search: for (let ring = 0; ring < rings; ring++) {
        const r = gap + ring * step;
        for (const [dx, dy] of DIRS) {
          const box = {
            x: dx > 0 ? it.x + r : dx < 0 ? it.x - r - it.w : it.x - it.w / 2,
            y: dy > 0 ? it.y + r : dy < 0 ? it.y - r - it.h : it.y - it.h / 2,
            w: it.w, h: it.h,
          };
          if (bounds && (box.x < bounds.x || box.y < bounds.y || box.x + box.w > bounds.x + bounds.w || box.y + box.h > bounds.y + bounds.h)) continue;
          if (taken.some((b) => overlaps(box, b))) continue;
          taken.push(box);
          out[it.id] = { x: box.x, y: box.y, ring };
          break search;
        }
      }
    }
    return out;
  }
  return { place, overlaps };
})();
