// Draws the charts of a losstest page with uPlot from the JSON embedded in the page. Each series
// carries its own x values (uPlot's mode 2): the raw and smoothed envelopes, the validation
// points and the runs of a sweep need not share steps.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("losstest-data").textContent);
  const charts = [];
  const groups = {}; // sync key -> charts sharing a zoomed step range
  window.losstest = { charts: charts };

  function lowerBound(xs, x) {
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function fmt(v) {
    if (v == null || !isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3).replace(/\.?0+e/, "e");
    return String(+v.toPrecision(4));
  }

  function ticks(self, splits) {
    return splits.map(function (v) { return v == null ? null : fmt(v); });
  }

  // A log axis keeps the ticks at 1, 2 and 5 of each decade, or at 1 over many decades.
  function logTicks(self, splits) {
    const shown = splits.filter(function (v) { return v > 0; });
    const decades = shown.length ? Math.log10(shown[shown.length - 1] / shown[0]) : 0;
    const keep = decades > 2 ? [1] : [1, 2, 5], every = Math.max(1, Math.ceil(decades / 5));
    return splits.map(function (v) {
      const e = Math.floor(Math.log10(v) + 1e-9), m = v / Math.pow(10, e);
      const nice = keep.some(function (k) { return Math.abs(m - k) < 1e-6; });
      return nice && (every === 1 || e % every === 0) ? v : null;
    });
  }

  function axis(label, log, extra) {
    const a = { label: label, size: 70, values: ticks, grid: { stroke: "rgba(0,0,0,0.07)" }, ticks: {} };
    if (log) a.filter = a.grid.filter = a.ticks.filter = logTicks;
    return Object.assign(a, extra || {});
  }

  function alpha(color, a) {
    if (a == null || a >= 1 || color[0] !== "#") return color;
    const n = parseInt(color.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  // The y range over the steps in view, over the shown series of one axis; the clipped top of a
  // diverged run applies to the whole run only, so that zooming into the blow-up shows it.
  function yRange(u, spec, scale) {
    const xs = u.scales.x;
    let lo = Infinity, hi = -Infinity;
    u.series.forEach(function (s, i) {
      if (i === 0 || !s.show || (s.scale || "y") !== scale) return;
      const d = u.data[i], x = d[0], y = d[1];
      const a = xs.min == null ? 0 : lowerBound(x, xs.min);
      const b = xs.max == null ? x.length : lowerBound(x, xs.max + 1e-9 * Math.abs(xs.max));
      for (let k = a; k < b; k++) {
        const v = y[k];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    });
    if (scale === "y") {
      (spec.hlines || []).forEach(function (h) { lo = Math.min(lo, h.y); hi = Math.max(hi, h.y); });
      const whole = xs.min == null || xs.min <= u.fullX[0] && xs.max >= u.fullX[1];
      if (spec.top != null && whole) hi = Math.min(hi, spec.top);
    }
    if (!isFinite(lo)) return [spec.log ? 0.1 : 0, 1];
    const log = scale === "y" ? spec.log : u.series.some(function (s) { return s.scale === scale && s.log; });
    if (log && lo > 0) return [lo / Math.pow(hi / lo, 0.04), hi * Math.pow(hi / lo, 0.04)];
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    return [lo - pad, hi + pad];
  }

  function drawMark(ctx, shape, x, y, r) {
    ctx.beginPath();
    if (shape === "triangle") {
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r * 0.8); ctx.lineTo(x - r, y + r * 0.8);
      ctx.closePath(); ctx.stroke();
    } else if (shape === "star") {
      for (let k = 0; k < 10; k++) {
        const rr = k % 2 ? r * 0.45 : r, a = Math.PI / 5 * k - Math.PI / 2;
        ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
      }
      ctx.closePath(); ctx.fill(); ctx.stroke();
    } else {
      ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
      ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); ctx.stroke();
    }
  }

  // Spans under the curves; lines and markers over them. Hidden legend entries are skipped.
  function under(u) {
    const spec = u.spec, ctx = u.ctx, b = u.bbox;
    (spec.spans || []).forEach(function (s) {
      if (u.hidden[s.label]) return;
      const x0 = Math.max(b.left, u.valToPos(s.from, "x", true));
      const x1 = Math.min(b.left + b.width, u.valToPos(s.to, "x", true));
      if (x1 < b.left || x0 > b.left + b.width) return;
      ctx.fillStyle = alpha(s.color, 0.13);
      ctx.fillRect(x0, b.top, Math.max(x1 - x0, 2), b.height);
    });
  }

  function over(u) {
    const spec = u.spec, ctx = u.ctx, b = u.bbox, dpr = devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left, b.top - 8 * dpr, b.width, b.height + 8 * dpr); ctx.clip();
    ctx.lineWidth = 1.2 * dpr;
    (spec.vlines || []).forEach(function (l) {
      if (u.hidden[l.label]) return;
      const x = u.valToPos(l.x, "x", true);
      ctx.strokeStyle = l.color; ctx.setLineDash(l.dash ? [6 * dpr, 4 * dpr] : []);
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
    });
    (spec.hlines || []).forEach(function (l) {
      if (u.hidden[l.label]) return;
      const y = u.valToPos(l.y, "y", true);
      ctx.strokeStyle = l.color; ctx.setLineDash([2 * dpr, 3 * dpr]);
      ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
    });
    ctx.setLineDash([]);
    u.series.forEach(function (s, i) {
      if (i === 0 || !s.show || !s.dotsOnly) return;
      const xs = u.data[i][0], ys = u.data[i][1];
      ctx.fillStyle = s._color;
      for (let k = 0; k < xs.length; k++) {
        ctx.beginPath();
        ctx.arc(u.valToPos(xs[k], "x", true), u.valToPos(ys[k], "y", true), 4 * dpr, 0, 2 * Math.PI);
        ctx.fill();
      }
    });
    (spec.marks || []).forEach(function (m) {
      if (u.hidden[m.label]) return;
      const top = m.shape === "cross-top";  // at many steps (xs), on the top edge
      ctx.strokeStyle = m.shape === "star" ? "#000" : m.color;
      ctx.fillStyle = m.color;
      ctx.lineWidth = (m.shape === "star" ? 0.8 : 1.5) * dpr;
      (top ? m.xs : [m.x]).forEach(function (x) {
        const y = top ? b.top : u.valToPos(m.y, "y", true);
        drawMark(ctx, m.shape, u.valToPos(x, "x", true), y, (m.shape === "star" ? 9 : top ? 3.5 : 6) * dpr);
      });
    });
    ctx.restore();
  }

  // Hover: every shown series at the step under the cursor, or the one run nearest to it.
  function hover(u, tip) {
    const left = u.cursor.left, top = u.cursor.top;
    if (left == null || left < 0) { tip.style.display = "none"; return; }
    const x = u.posToVal(left, "x");
    const lines = [];
    let best = null;
    u.series.forEach(function (s, i) {
      if (i === 0 || !s.show) return;
      const xs = u.data[i][0], ys = u.data[i][1];
      if (!xs.length) return;
      let k = lowerBound(xs, x);
      if (k === xs.length || k > 0 && x - xs[k - 1] < xs[k] - x) k -= 1;
      if (u.spec.hover === "all") {
        lines.push([s.label, xs[k], ys[k]]);
        return;
      }
      const dx = u.valToPos(xs[k], "x") - left, dy = u.valToPos(ys[k], s.scale || "y") - top;
      const d = dx * dx + dy * dy;
      if (best == null || d < best[0]) best = [d, s.names ? s.names[k] : s.name || s.label, xs[k], ys[k]];
    });
    const rows = u.spec.hover === "all"
      ? ["step " + fmt(x)].concat(lines.map(function (l) { return l[0] + ": " + fmt(l[2]); }))
      : best ? [best[1], (u.spec.x_label || "step") + " " + fmt(best[2]) + ": " + fmt(best[3])] : [];
    if (!rows.length) { tip.style.display = "none"; return; }
    tip.textContent = rows.join("\n");
    tip.style.display = "block";
    tip.style.left = Math.min(left + 14, u.bbox.width / (devicePixelRatio || 1) - 60) + "px";
    tip.style.top = top + 14 + "px";
  }

  const GLYPH = { triangle: "△", star: "★", "cross-top": "×" };

  function legend(u, el) {
    const entries = {};
    u.series.forEach(function (s, i) {
      if (i === 0) return;
      const e = entries[s.label] || (entries[s.label] = { color: s._color, dash: s._dashed,
        glyph: s.dotsOnly ? "●" : null, series: [] });
      e.series.push(i);
    });
    ["spans", "vlines", "hlines", "marks"].forEach(function (kind) {
      (u.spec[kind] || []).forEach(function (m) {
        if (!entries[m.label]) entries[m.label] = { color: m.color, shape: kind, glyph: GLYPH[m.shape], series: [] };
      });
    });
    Object.keys(entries).forEach(function (label) {
      const e = entries[label];
      const item = document.createElement("button");
      item.type = "button";
      item.className = "legend-entry";
      const swatch = document.createElement("span");
      swatch.className = e.glyph ? "glyph" : "swatch " + (e.shape || (e.dash ? "dashed" : "line"));
      swatch.style.borderColor = e.color;
      if (e.glyph) { swatch.textContent = e.glyph; swatch.style.color = e.shape === "marks" && e.color === "gold" ? "#c9a400" : e.color; }
      if (e.shape === "spans") swatch.style.background = alpha(e.color, 0.3);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(label));
      item.addEventListener("click", function () {
        const hide = !item.classList.contains("off");
        item.classList.toggle("off", hide);
        u.hidden[label] = hide;
        const min = u.scales.x.min, max = u.scales.x.max;
        u.batch(function () {  // showing a series in uPlot's mode 2 resets the zoom: keep it
          e.series.forEach(function (i) { u.setSeries(i, { show: !hide }); });
          u.setScale("x", { min: min, max: max });
          rescale(u);
        });
        u.redraw(false);
      });
      el.appendChild(item);
    });
  }

  function rescale(u) {
    ["y", "y2"].forEach(function (key) {
      if (!u.scales[key]) return;
      const r = yRange(u, u.spec, key);
      u.setScale(key, { min: r[0], max: r[1] });
    });
  }

  function ranged(spec, key) {
    return function (self, lo, hi) { return lo == null ? yRange(self, spec, key) : [lo, hi]; };
  }

  function syncX(u, min, max) {
    (groups[u.spec.sync] || []).forEach(function (other) {
      if (other !== u && (other.scales.x.min !== min || other.scales.x.max !== max)) {
        other.setScale("x", { min: min, max: max });
      }
    });
  }

  // Shift-drag pans the step axis, ctrl-wheel (and a touchpad pinch) zooms it.
  function panAndWheel(u, wrap) {
    wrap.addEventListener("mousedown", function (e) {
      if (!e.shiftKey || e.button !== 0) return;
      e.stopPropagation(); e.preventDefault();
      const x0 = e.clientX, min = u.scales.x.min, max = u.scales.x.max;
      const perPx = (max - min) / (u.bbox.width / (devicePixelRatio || 1));
      function move(ev) {
        const d = (ev.clientX - x0) * perPx;
        u.setScale("x", { min: min - d, max: max - d });
      }
      function up() {
        document.removeEventListener("mousemove", move);
        document.removeEventListener("mouseup", up);
      }
      document.addEventListener("mousemove", move);
      document.addEventListener("mouseup", up);
    }, true);
    wrap.addEventListener("wheel", function (e) {
      if (!e.ctrlKey) return;
      e.preventDefault();
      const rect = u.over.getBoundingClientRect();
      const at = u.posToVal(e.clientX - rect.left, "x");
      const f = e.deltaY < 0 ? 0.8 : 1.25, min = u.scales.x.min, max = u.scales.x.max;
      const lo = Math.max(u.fullX[0], at - (at - min) * f), hi = Math.min(u.fullX[1], at + (max - at) * f);
      if (hi > lo) u.setScale("x", { min: lo, max: hi });
    }, { passive: false });
  }

  function build(spec) {
    const el = document.getElementById(spec.id);
    const series = [{}], sets = [null];
    let fullLo = Infinity, fullHi = -Infinity;
    spec.series.forEach(function (s) {
      const dashed = !!s.dash;
      series.push({
        label: s.label, name: s.name, names: s.names, log: !!s.log,
        scale: s.axis === "y2" ? "y2" : "y",
        stroke: alpha(s.color, s.alpha), width: s.width || 1, dash: dashed ? [6, 4] : undefined,
        paths: s.points_only ? function () { return null; } : undefined,
        points: s.dots ? { show: true, size: 5, fill: s.color } : { show: false },
        dotsOnly: !!s.points_only,
        facets: [{ scale: "x", auto: true }, { scale: s.axis === "y2" ? "y2" : "y", auto: true }],
        _color: s.color, _dashed: dashed,
      });
      sets.push([s.x, s.y]);
      if (s.x.length) { fullLo = Math.min(fullLo, s.x[0]); fullHi = Math.max(fullHi, s.x[s.x.length - 1]); }
    });
    (spec.marks || []).forEach(function (m) {
      (m.xs || [m.x]).forEach(function (x) { fullLo = Math.min(fullLo, x); fullHi = Math.max(fullHi, x); });
    });
    (spec.spans || []).forEach(function (m) { fullLo = Math.min(fullLo, m.from); fullHi = Math.max(fullHi, m.to); });
    if (fullLo === fullHi) { fullLo -= 1; fullHi += 1; }
    if (spec.log_x && fullLo > 0) { fullLo /= 1.5; fullHi *= 1.5; }
    else if (spec.kind === "hparam") { const p = (fullHi - fullLo) * 0.06; fullLo -= p; fullHi += p; }
    const y2 = spec.series.find(function (s) { return s.axis === "y2"; });
    const width = spec.width || Math.max(320, el.clientWidth || 900);
    const box = document.createElement("div");
    box.className = "chart-box";
    const tip = document.createElement("div");
    tip.className = "tip";
    const legendEl = document.createElement("div");
    legendEl.className = "legend";
    let u = null;
    const opts = {
      mode: 2, width: width, height: spec.height || 320,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: true }, points: { show: false },
      },
      scales: {
        x: { time: false, auto: false, distr: spec.log_x ? 3 : 1, range: function (self, lo, hi) {
          return lo == null ? [fullLo, fullHi] : [lo, hi]; } },
        y: { auto: false, distr: spec.log ? 3 : 1, range: ranged(spec, "y") },
      },
      axes: [
        axis(spec.x_label || "step", spec.log_x, { size: 40 }),
        axis(spec.y_label || "", spec.log),
      ],
      padding: [12, spec.gutter && !y2 ? 112 : y2 ? 12 : 24, 0, 0],  // 112: the y2 axis and its label
      series: series,
      hooks: {
        drawClear: [under],
        draw: [over],
        setCursor: [function (self) { hover(self, tip); }],
        setScale: [function (self, key) {
          if (key !== "x") return;
          rescale(self);
          if (spec.sync) syncX(self, self.scales.x.min, self.scales.x.max);
        }],
      },
    };
    if (y2) {
      opts.scales.y2 = { auto: false, distr: y2.log ? 3 : 1, range: ranged(spec, "y2") };
      opts.axes.push(axis(y2.label, y2.log, { scale: "y2", side: 1, stroke: y2.color, grid: { show: false } }));
    }
    el.appendChild(box);
    u = new uPlot(opts, sets, box);
    u.spec = spec;
    u.hidden = {};
    u.fullX = [fullLo, fullHi];
    box.querySelector(".u-over").appendChild(tip);
    if (spec.note) {
      const note = document.createElement("div");
      note.className = "note";
      note.textContent = spec.note;
      box.querySelector(".u-over").appendChild(note);
    }
    el.appendChild(legendEl);
    legend(u, legendEl);
    panAndWheel(u, box);
    u.setScale("x", { min: fullLo, max: fullHi });
    if (spec.sync) (groups[spec.sync] = groups[spec.sync] || []).push(u);
    charts.push(u);
    el.dataset.drawn = "true";
    return u;
  }

  // A page of many runs draws each chart when it scrolls near the view.
  const EAGER = 40;
  const waiting = data.charts.filter(function (spec) { return document.getElementById(spec.id); });
  if ("IntersectionObserver" in window && waiting.length > EAGER) {
    const byId = {};
    waiting.forEach(function (spec) { byId[spec.id] = spec; });
    const seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        seen.unobserve(entry.target);
        build(byId[entry.target.id]);
      });
    }, { rootMargin: "400px" });
    waiting.forEach(function (spec) { seen.observe(document.getElementById(spec.id)); });
  } else {
    waiting.forEach(build);
  }

  window.losstest.ready = true;
  window.losstest.readyMs = performance.now();

  // Leaderboard columns sort on click: numbers as numbers, blanks last.
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      function sort() {
        const asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        const num = th.dataset.type === "num";
        const rows = Array.from(table.tBodies[0].rows);
        rows.sort(function (a, b) {
          const x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
          if (x === "" || y === "") return (x === "") - (y === "");
          const c = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  });
})();
