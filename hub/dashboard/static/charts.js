// Lightbox dashboard: small canvas charts drawn by our own code (no library).
// LightboxCharts.line(canvas, {t0, t1, gapMs, series:[{label, color, axis:'left'|'right', dash,
//   points:[[tMs, v]...], format}], emptyText}) and LightboxCharts.bars(canvas, {categories, series:[{label, color, values}],
//   format, emptyText}).
'use strict';
(function () {
  const PAD = { l: 64, r: 64, t: 28, b: 28 };
  const GRID = '#e3e7ee';
  const INK = '#4a5568';
  const FONT = '12px system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';

  // Sizes the backing store to the CSS size and the device pixel ratio; returns [ctx, w, h].
  function setup(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(canvas.clientWidth || 600, 200);
    const h = Math.max(canvas.clientHeight || 220, 120);
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = FONT;
    return [ctx, w, h];
  }

  // A "nice" axis maximum and step for values up to `max`.
  function niceScale(max, ticks) {
    if (!(max > 0)) return { max: 1, step: 0.25 };
    const raw = max / ticks;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    return { max: Math.ceil(max / step) * step, step };
  }

  function empty(ctx, w, h, text) {
    ctx.fillStyle = '#8a94a6';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(text || '—', w / 2, h / 2);
  }

  function legend(ctx, series, w) {
    let x = PAD.l;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    for (const s of series) {
      ctx.fillStyle = s.color;
      ctx.fillRect(x, 10, 12, 8);
      ctx.fillStyle = INK;
      ctx.fillText(s.label, x + 16, 14);
      x += 28 + ctx.measureText(s.label).width;
      if (x > w - 40) break;
    }
  }

  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  function timeLabel(ms, span) {
    const d = new Date(ms);
    if (span <= 2 * 86400e3) return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    return pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  }

  function yAxis(ctx, scale, x, y0, y1, align, format) {
    ctx.textAlign = align;
    ctx.textBaseline = 'middle';
    ctx.fillStyle = INK;
    for (let v = 0; v <= scale.max + 1e-9; v += scale.step) {
      const y = y0 - (v / scale.max) * (y0 - y1);
      ctx.fillText(format ? format(v) : String(v), x, y);
    }
  }

  function line(canvas, opts) {
    const [ctx, w, h] = setup(canvas);
    const series = (opts.series || []).filter((s) => s.points && s.points.length);
    if (!series.length) return empty(ctx, w, h, opts.emptyText);
    const t0 = opts.t0, t1 = Math.max(opts.t1, opts.t0 + 1);
    const x0 = PAD.l, x1 = w - PAD.r, y0 = h - PAD.b, y1 = PAD.t;
    const scales = {};
    for (const axis of ['left', 'right']) {
      const on = series.filter((s) => (s.axis || 'left') === axis);
      if (!on.length) continue;
      let max = 0;
      for (const s of on) for (const p of s.points) max = Math.max(max, p[1]);
      scales[axis] = { scale: niceScale(max, 4), format: on[0].format };
    }
    // Grid and axes.
    const main = scales.left || scales.right;
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    for (let v = 0; v <= main.scale.max + 1e-9; v += main.scale.step) {
      const y = Math.round(y0 - (v / main.scale.max) * (y0 - y1)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x1, y); ctx.stroke();
    }
    if (scales.left) yAxis(ctx, scales.left.scale, x0 - 6, y0, y1, 'right', scales.left.format);
    if (scales.right) yAxis(ctx, scales.right.scale, x1 + 6, y0, y1, 'left', scales.right.format);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillStyle = INK;
    const ticks = Math.max(2, Math.min(8, Math.floor((x1 - x0) / 90)));
    for (let i = 0; i <= ticks; i++) {
      const t = t0 + ((t1 - t0) * i) / ticks;
      ctx.fillText(timeLabel(t, t1 - t0), x0 + ((x1 - x0) * i) / ticks, y0 + 6);
    }
    // Series: a line with dots; gaps longer than 3 buckets break the line.
    for (const s of series) {
      const sc = scales[s.axis || 'left'].scale;
      const px = (t) => x0 + ((t - t0) / (t1 - t0)) * (x1 - x0);
      const py = (v) => y0 - (v / sc.max) * (y0 - y1);
      const gap = opts.gapMs || Infinity;
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dash ? [6, 4] : []);
      ctx.beginPath();
      let prev = null;
      for (const p of s.points) {
        if (prev === null || p[0] - prev > gap) ctx.moveTo(px(p[0]), py(p[1]));
        else ctx.lineTo(px(p[0]), py(p[1]));
        prev = p[0];
      }
      ctx.stroke();
      ctx.setLineDash([]);
      if (s.points.length <= 60) for (const p of s.points) ctx.fillRect(px(p[0]) - 2, py(p[1]) - 2, 4, 4);
    }
    legend(ctx, series, w);
  }

  function bars(canvas, opts) {
    const [ctx, w, h] = setup(canvas);
    const cats = opts.categories || [];
    const series = opts.series || [];
    let max = 0;
    for (const s of series) for (const v of s.values) max = Math.max(max, v);
    if (!cats.length || !series.length || max === 0) return empty(ctx, w, h, opts.emptyText);
    const x0 = PAD.l, x1 = w - 16, y0 = h - PAD.b, y1 = PAD.t;
    const sc = niceScale(max, 4);
    ctx.strokeStyle = GRID;
    for (let v = 0; v <= sc.max + 1e-9; v += sc.step) {
      const y = Math.round(y0 - (v / sc.max) * (y0 - y1)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x1, y); ctx.stroke();
    }
    yAxis(ctx, sc, x0 - 6, y0, y1, 'right', opts.format);
    const groupW = (x1 - x0) / cats.length;
    const barW = Math.max(2, Math.min(28, (groupW * 0.8) / series.length));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    cats.forEach((c, i) => {
      const gx = x0 + groupW * i + (groupW - barW * series.length) / 2;
      series.forEach((s, k) => {
        const v = s.values[i] || 0;
        const bh = (v / sc.max) * (y0 - y1);
        ctx.fillStyle = s.color;
        ctx.fillRect(gx + k * barW, y0 - bh, barW - 1, bh);
      });
      ctx.fillStyle = INK;
      ctx.fillText(c, x0 + groupW * i + groupW / 2, y0 + 6);
    });
    legend(ctx, series, w);
  }

  const PALETTE = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#d53f8c', '#319795', '#b7791f', '#e53e3e'];
  window.LightboxCharts = { line, bars, palette: (i) => PALETTE[i % PALETTE.length] };
})();
