// fcnet playground page: sends setups and commands over one WebSocket, draws what the server computes.
// Plain JavaScript, no libraries: the page works offline. Every value is checked again on the server.
"use strict";

const T = {
  en: {
    reset: "reset", play: "play", pause: "pause", step: "one step", export: "export", step_n: "step",
    test_loss: "test loss", train_loss: "train loss", test_acc: "test accuracy", data: "Data", dataset: "data set",
    noise: "noise σ", points: "points", train_ratio: "train ratio", features: "Features", network: "Network",
    hidden_layers: "hidden layers", activation: "activation", negative_slope: "Leaky ReLU slope α",
    init: "initialisation", init_std: "σ of N(0, σ²)", batchnorm: "batch norm", dropout: "dropout p",
    training: "Training", loss: "loss", optimizer: "optimizer", lr: "learning rate ε", momentum: "μ (β₁)",
    rho: "ρ (β₂)", eps: "δ", batch_size: "batch size", l2: "L2 λ", seed: "seed", apply: "apply",
    net_view: "Network: each unit's output (orange < 0 < blue); links blue + / orange −, width |w|",
    boundary: "Decision boundary (● train, ○ test)", curves: "Loss (train — solid, test — dashed)",
    grads: "Gradient norm ‖∂L/∂W‖ per layer (log scale)", hists: "Activations per hidden layer",
    presets: "Lecture presets", slides: "slides", diverged: "the loss is no longer finite: training stopped (lower ε)",
    exported: "exported to", layer: "layer", output: "output", input: "input",
    speed: "speed", epoch_n: "epoch", presenter: "presenter", regenerate: "regenerate data", l1: "L1 λ",
    log: "log scale", regression: "Regression: the net's output (orange −1 … blue +1; ● train, ○ test)",
    init_hists: "Activations at step 0 (initialisation): this preset's claim is judged there",
    unit: "unit", unit_view: "its output over the plane (click here to return to the boundary)",
    full: "full", loss_axis: "loss",
  },
  zh: {
    reset: "重置", play: "开始", pause: "暂停", step: "单步", export: "导出", step_n: "步数",
    test_loss: "测试损失", train_loss: "训练损失", test_acc: "测试精度", data: "数据", dataset: "数据集",
    noise: "噪声 σ", points: "点数", train_ratio: "训练集比例", features: "输入特征", network: "网络结构",
    hidden_layers: "隐层数", activation: "激活函数", negative_slope: "Leaky ReLU 斜率 α",
    init: "权值初始化", init_std: "N(0, σ²) 的 σ", batchnorm: "批归一化", dropout: "随机失活 p",
    training: "训练", loss: "损失函数", optimizer: "优化器", lr: "学习率 ε", momentum: "μ (β₁)",
    rho: "ρ (β₂)", eps: "δ", batch_size: "批大小", l2: "L2 正则 λ", seed: "随机种子", apply: "应用",
    net_view: "网络：每个神经元的输出（橙 < 0 < 蓝）；连线 蓝 + / 橙 −，粗细 |w|",
    boundary: "分界面（● 训练，○ 测试）", curves: "损失（训练 实线，测试 虚线）",
    grads: "每层梯度范数 ‖∂L/∂W‖（对数刻度）", hists: "每个隐层的激活值分布",
    presets: "课程实验", slides: "幻灯片", diverged: "损失不再是有限值：训练停止（请降低学习率 ε）",
    exported: "已导出到", layer: "层", output: "输出", input: "输入",
    speed: "速度", epoch_n: "轮数", presenter: "演示模式", regenerate: "重新生成数据", l1: "L1 正则 λ",
    log: "对数刻度", regression: "回归：网络的输出（橙 −1 … 蓝 +1；● 训练，○ 测试）",
    init_hists: "第0步（初始化时）的激活值分布：本实验的结论在此判断",
    unit: "神经元", unit_view: "在平面上的输出（点击此处返回分界面）",
    full: "全速", loss_axis: "损失",
  },
};
const CLASS_RGB = [[8, 119, 189], [245, 147, 34], [60, 170, 80], [150, 80, 190]];
const NEG = [245, 147, 34], POS = [8, 119, 189];
const NUMERIC = ["noise", "points", "train_ratio", "negative_slope", "init_std", "dropout", "lr", "momentum", "rho",
                 "eps", "batch_size", "l2", "l1", "seed"];
const REGRESSIONS = ["reg-plane", "reg-gauss"];
const CHOICES = ["dataset", "activation", "init", "loss", "optimizer"];

let lang = "en", info = null, ws = null, setup = null, points = null, frame = null, playing = false;
let hidden = [8, 8], claim = null, dataSeed = null, chosen = null, hovered = null, fromLink = null;

const $ = (id) => document.getElementById(id);
const t = (key) => T[lang][key] || key;

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("play").textContent = playing ? t("pause") : t("play");
  renderPresets();
  showClaim();
  const full = document.querySelector('#speed option[value="full"]');
  if (full) full.textContent = t("full");
  updateTitles();
}

function showClaim() {
  $("claim").textContent = claim ? claim.claim[lang] : "";
  $("cap").textContent = claim && claim.cap ? claim.cap[lang] : "";
  for (const b of document.querySelectorAll("#presets button")) {
    b.classList.toggle("active", !!claim && b.dataset.preset === claim.id);
  }
}

// a preset's claim belongs beside its own setup only (a link may have been edited, or refused)
function presetMatches(p, s) {
  return Object.entries(p.setup).every(([k, v]) => JSON.stringify(s[k]) === JSON.stringify(v));
}

function initView() { return !!(claim && claim.view === "init"); }

function updateTitles() {
  $("histtitle").textContent = initView() ? t("init_hists") : t("hists");
  const u = hovered || chosen;
  if (u) $("bigtitle").textContent = `${u.name}: ${t("unit_view")}`;
  else $("bigtitle").textContent = points && points.regression ? t("regression") : t("boundary");
}

function showMessage(text) { $("message").textContent = text || ""; }

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

// --- controls <-> setup -------------------------------------------------------------------------
function numberOrText(el) {
  const v = el.value.trim();
  if (v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;  // the server refuses what is not a number, with a message
}

function readSetup() {
  const s = {hidden: hidden.slice(), batchnorm: $("batchnorm").checked};
  for (const k of CHOICES) s[k] = $(k).value;
  for (const k of NUMERIC) {
    const v = numberOrText($(k));
    if (v !== null || k === "eps" || k === "init_std") s[k] = v;
  }
  s.features = [...document.querySelectorAll("#features input:checked")].map((el) => el.value);
  const regression = REGRESSIONS.includes(s.dataset);
  if (regression) s.loss = "mse";
  else if (s.loss === "mse") s.loss = "cross-entropy";
  s.data_seed = dataSeed;
  return s;
}

function writeControls(s) {
  for (const k of CHOICES) $(k).value = s[k];
  for (const k of NUMERIC) $(k).value = s[k] === null || s[k] === undefined ? "" : s[k];
  $("batchnorm").checked = !!s.batchnorm;
  for (const el of document.querySelectorAll("#features input")) el.checked = s.features.includes(el.value);
  hidden = s.hidden.slice();
  dataSeed = s.data_seed === undefined ? null : s.data_seed;
  renderWidths();
}

function renderWidths() {
  $("nlayers").textContent = hidden.length;
  const box = $("widths");
  box.innerHTML = "";
  hidden.forEach((w, i) => {
    const el = document.createElement("input");
    el.type = "number"; el.min = 1; el.max = info ? info.limits.units : 16; el.value = w;
    el.title = `${t("layer")} ${i + 1}`;
    el.addEventListener("change", () => { hidden[i] = numberOrText(el); applySetup(); });
    box.appendChild(el);
  });
}

function applySetup(keepClaim = false) {
  if (!keepClaim) { claim = null; showClaim(); }  // the claim belongs to the preset's setup
  playing = false; $("play").textContent = t("play");
  send({type: "setup", setup: readSetup()});
}

function renderPresets() {
  if (!info) return;
  const box = $("presets");
  box.innerHTML = "";
  for (const p of info.presets) {
    const b = document.createElement("button");
    b.textContent = `${t("slides")} ${p.slides}: ${p.title[lang]}`;
    b.dataset.preset = p.id;
    b.addEventListener("click", () => {
      claim = p;
      showClaim();
      writeControls({...info.default, ...p.setup});
      applySetup(true);
      updateTitles();
    });
    box.appendChild(b);
  }
}

// --- drawing ------------------------------------------------------------------------------------
function decode(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function mix(rgb, a) { return [255 + (rgb[0] - 255) * a, 255 + (rgb[1] - 255) * a, 255 + (rgb[2] - 255) * a]; }

function signedImage(bytes, n) {
  // byte 127.5 ↔ 0: orange below, blue above, white at 0
  const img = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const v = bytes[i] / 127.5 - 1, c = mix(v < 0 ? NEG : POS, Math.min(1, Math.abs(v)));
    img.data.set([c[0], c[1], c[2], 255], 4 * i);
  }
  return img;
}

function blit(canvas, img) {
  const tmp = document.createElement("canvas");
  tmp.width = img.width; tmp.height = img.height;
  tmp.getContext("2d").putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

function chosenBytes() {
  // the enlarged unit's map from the latest frame (inputs are layer 0)
  const u = hovered || chosen;
  if (!u || !frame) return null;
  const b64 = u.layer === 0 ? frame.inputs[u.unit] : (frame.units[u.layer - 1] || [])[u.unit];
  return b64 ? decode(b64) : null;
}

function drawBoundary() {
  const cv = $("boundary"), ctx = cv.getContext("2d");
  const unitMap = chosenBytes();
  if (unitMap) blit(cv, signedImage(unitMap, frame.unit_grid));
  else if (frame && frame.regression) blit(cv, signedImage(decode(frame.boundary), frame.grid));
  else if (frame) {
    const g = frame.grid, b = decode(frame.boundary), img = new ImageData(g, g);
    for (let i = 0; i < g * g; i++) {
      const c = mix(CLASS_RGB[b[2 * i] % CLASS_RGB.length], 0.15 + 0.6 * b[2 * i + 1] / 255);
      img.data.set([c[0], c[1], c[2], 255], 4 * i);
    }
    blit(cv, img);
  }
  if (!points) return;
  const e = points.extent, W = cv.width, H = cv.height;
  const px = (p) => [(p[0] + e) / (2 * e) * W, (e - p[1]) / (2 * e) * H];
  const color = (y) => points.regression ? mix(y < 0 ? NEG : POS, Math.min(1, Math.abs(y))).map(Math.round)
    : CLASS_RGB[y % CLASS_RGB.length];
  const dot = (p, y, filled) => {
    const [x, z] = px(p), c = color(y);
    ctx.beginPath(); ctx.arc(x, z, 3, 0, 2 * Math.PI);
    if (filled) { ctx.fillStyle = `rgb(${c})`; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.stroke(); }
    else { ctx.strokeStyle = `rgb(${c})`; ctx.lineWidth = 1.5; ctx.stroke(); ctx.lineWidth = 1; }
  };
  points.train.forEach((p, i) => dot(p, points.train_y[i], true));
  points.test.forEach((p, i) => dot(p, points.test_y[i], false));
}

function buildNet() {
  // one column per layer: inputs (feature maps), hidden layers (unit maps), outputs
  const box = $("layers");
  box.innerHTML = "";
  const cols = [points.features.length, ...points.hidden, points.classes];
  cols.forEach((n, li) => {
    const col = document.createElement("div");
    col.className = "layer";
    const name = document.createElement("div");
    name.className = "lname";
    name.textContent = li === 0 ? t("input") : li === cols.length - 1 ? t("output") : `${t("layer")} ${li}`;
    col.appendChild(name);
    for (let j = 0; j < n; j++) {
      const c = document.createElement("canvas");
      c.className = "unit"; c.width = 26; c.height = 26;
      c.dataset.layer = li; c.dataset.unit = j;
      const name = li === 0 ? points.features[j] : `${t("layer")} ${li}, ${t("unit")} ${j + 1}`;
      c.title = name;
      if (li === cols.length - 1) {
        const ctx = c.getContext("2d");
        ctx.fillStyle = `rgb(${CLASS_RGB[j % CLASS_RGB.length]})`; ctx.fillRect(0, 0, 26, 26);
      } else {
        c.addEventListener("click", () => { hovered = null; chooseUnit(li, j, name); });
        c.addEventListener("mouseenter", () => { hovered = {layer: li, unit: j, name}; updateTitles(); drawBoundary(); });
        c.addEventListener("mouseleave", () => { hovered = null; updateTitles(); drawBoundary(); });
        if (chosen && chosen.layer === li && chosen.unit === j) c.classList.add("chosen");
      }
      if (li === 0) {  // TF Playground's input labels: the feature's name beside its map
        const row = document.createElement("div"), label = document.createElement("span");
        row.className = "unitrow"; label.className = "inname"; label.textContent = points.features[j];
        row.appendChild(label); row.appendChild(c); col.appendChild(row);
      } else col.appendChild(c);
    }
    box.appendChild(col);
  });
}

function chooseUnit(li, j, name) {
  chosen = chosen && chosen.layer === li && chosen.unit === j ? null : {layer: li, unit: j, name};
  for (const c of document.querySelectorAll("#layers canvas.unit")) {
    c.classList.toggle("chosen", !!chosen && +c.dataset.layer === chosen.layer && +c.dataset.unit === chosen.unit);
  }
  updateTitles(); drawBoundary();
}

function unitCanvas(li, j) { return document.querySelector(`#layers canvas[data-layer="${li}"][data-unit="${j}"]`); }

function drawNet() {
  if (!frame || !points) return;
  const n = frame.unit_grid;
  frame.inputs.forEach((b, j) => { const c = unitCanvas(0, j); if (c) blit(c, signedImage(decode(b), n)); });
  frame.units.forEach((layer, li) => layer.forEach((b, j) => {
    const c = unitCanvas(li + 1, j); if (c) blit(c, signedImage(decode(b), n));
  }));
  const svg = $("links"), box = $("net").getBoundingClientRect();
  let maxw = 1e-6;
  for (const W of frame.weights) for (const row of W) for (const w of row) maxw = Math.max(maxw, Math.abs(w));
  const parts = [];
  frame.weights.forEach((W, li) => W.forEach((row, k) => row.forEach((w, j) => {
    const a = unitCanvas(li, j), b = unitCanvas(li + 1, k);
    if (!a || !b) return;
    const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
    const x1 = ra.right - box.left, y1 = ra.top + ra.height / 2 - box.top;
    const x2 = rb.left - box.left, y2 = rb.top + rb.height / 2 - box.top;
    const color = w >= 0 ? `rgb(${POS})` : `rgb(${NEG})`;
    parts.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${color}" ` +
               `stroke-width="${(0.3 + 3.5 * Math.abs(w) / maxw).toFixed(2)}" stroke-opacity="0.7"/>`);
  })));
  svg.innerHTML = parts.join("");
}

function niceTicks(lo, hi, n) {
  const span = hi - lo || 1, step0 = span / n, mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= step0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(+v.toPrecision(12));
  return out;
}

function drawCurves() {
  // loss against steps, with labelled axes; log scale on request (the loss spans decades while training)
  const cv = $("curves"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  if (!frame || frame.curve.length < 1) return;
  const log = $("logscale").checked, c = frame.curve, last = Math.max(1, c[c.length - 1][0]);
  const L = 46, R = 8, T = 8, B = 30;  // margins for the axes' labels
  let lo = Infinity, hi = -Infinity;
  for (const r of c) for (const v of [r[1], r[2]]) {
    if (v === null || (log && !(v > 0))) continue;
    const y = log ? Math.log10(v) : v;
    lo = Math.min(lo, y); hi = Math.max(hi, y);
  }
  if (!Number.isFinite(lo)) return;
  if (!log) lo = 0;
  if (hi - lo < 1e-9) hi = lo + (log ? 1 : 1e-6);
  const X = (s) => L + (W - L - R) * s / last, Y = (v) => H - B - (H - B - T) * ((log ? Math.log10(v) : v) - lo) / (hi - lo);
  ctx.strokeStyle = "#888"; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.stroke();
  ctx.fillStyle = "#444"; ctx.font = "10px sans-serif";
  const yt = niceTicks(lo, hi, 4);  // on a log scale: ticks on log10(loss), labelled with the loss
  ctx.textAlign = "right";
  for (const v of yt) {
    const y = log ? Y(10 ** v) : Y(v);
    ctx.fillText(log ? (10 ** v).toPrecision(2) : String(+v.toPrecision(3)), L - 4, y + 3);
    ctx.beginPath(); ctx.moveTo(L - 3, y); ctx.lineTo(L, y); ctx.stroke();
  }
  ctx.textAlign = "center";
  for (const s of niceTicks(0, last, 4)) {
    ctx.fillText(String(s), X(s), H - B + 12);
    ctx.beginPath(); ctx.moveTo(X(s), H - B); ctx.lineTo(X(s), H - B + 3); ctx.stroke();
  }
  ctx.fillText(t("step_n"), (L + W - R) / 2, H - 3);
  ctx.save(); ctx.translate(10, (T + H - B) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(t("loss_axis"), 0, 0); ctx.restore();
  ctx.textAlign = "left";
  const line = (k, dash) => {
    ctx.setLineDash(dash); ctx.beginPath();
    let started = false;
    for (const r of c) {
      if (r[k] === null || (log && !(r[k] > 0))) continue;
      const x = X(r[0]), y = Y(r[k]);
      if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
    }
    ctx.strokeStyle = "#183a5a"; ctx.lineWidth = 1.5; ctx.stroke(); ctx.lineWidth = 1;
  };
  line(1, []); line(2, [5, 4]); ctx.setLineDash([]);
}

function drawGrads() {
  const cv = $("grads"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  if (!frame) return;
  const g = frame.grad_norms, n = g.length, bw = (W - 10) / n;
  const lo = -8, hi = 2;  // log10 of the norm
  ctx.font = "10px sans-serif";
  g.forEach((v, i) => {
    const l = v > 0 ? Math.min(hi, Math.max(lo, Math.log10(v))) : lo;
    const h = (H - 24) * (l - lo) / (hi - lo);
    ctx.fillStyle = "#3d7ab8"; ctx.fillRect(5 + i * bw + 3, H - 12 - h, bw - 6, h);
    ctx.fillStyle = "#333";
    ctx.fillText(v > 0 ? v.toExponential(1) : "0", 5 + i * bw + 3, H - 14 - h);
    ctx.fillText(`W${i + 1}`, 5 + i * bw + bw / 2 - 6, H - 1);
  });
}

function drawHists() {
  const box = $("hists");
  if (!frame) return;
  while (box.children.length > frame.histograms.length) box.removeChild(box.lastChild);
  while (box.children.length < frame.histograms.length) {
    const c = document.createElement("canvas"); c.width = 120; c.height = 60; box.appendChild(c);
  }
  (initView() ? frame.initial.histograms : frame.histograms).forEach((h, i) => {
    const cv = box.children[i], ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
    ctx.clearRect(0, 0, W, H);
    const m = Math.max(1, ...h.counts), bw = W / h.counts.length;
    ctx.fillStyle = "#3d7ab8";
    h.counts.forEach((c, k) => { const hh = (H - 14) * c / m; ctx.fillRect(k * bw, H - 12 - hh, bw - 1, hh); });
    ctx.fillStyle = "#333"; ctx.font = "9px sans-serif";
    ctx.fillText(`${t("layer")} ${i + 1}`, 2, 9);
    ctx.fillText(h.lo.toPrecision(2), 0, H - 2); ctx.fillText(h.hi.toPrecision(2), W - 26, H - 2);
  });
}

function fmt(v, d = 4) { return v === null || v === undefined ? "–" : Number(v).toFixed(d); }

function onFrame(f) {
  frame = f;
  $("stepn").textContent = f.step;
  $("epochn").textContent = f.epoch.toFixed(f.epoch < 10 ? 2 : 1);
  $("testloss").textContent = fmt(f.test_loss);
  $("trainloss").textContent = fmt(f.train_loss);
  $("testacc").textContent = fmt(f.test_accuracy, 3);
  if (f.diverged) { playing = false; $("play").textContent = t("play"); showMessage(t("diverged")); }
  drawBoundary(); drawNet(); drawCurves(); drawGrads(); drawHists();
}

// --- the socket ---------------------------------------------------------------------------------
function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.addEventListener("message", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "frame") onFrame(m);
    else if (m.type === "points") { points = m; chosen = null; hovered = null; buildNet(); updateTitles(); drawBoundary(); }
    else if (m.type === "ready") { setup = m.setup; writeControls(setup); showMessage(""); writeLink(); }
    else if (m.type === "error") {
      showMessage(m.message); playing = false; $("play").textContent = t("play");
      if (claim && setup && !presetMatches(claim, setup)) { claim = null; showClaim(); updateTitles(); writeLink(); }
    }
    else if (m.type === "exported") {
      $("exported").textContent = `${t("exported")} ${m.directory}/ (${m.files.join(", ")})\n\n${m.toml}`;
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([m.toml], {type: "application/toml"}));
      a.download = "config.toml"; a.click();
    }
  });
  ws.addEventListener("open", () => {
    sendSpeed();
    if (fromLink) send({type: "setup", setup: fromLink});  // a shared link: the same net, data and seed
  });
  ws.addEventListener("close", () => { playing = false; $("play").textContent = t("play"); });
}

// --- the whole setup in the URL: a link a teacher can hand out ---------------------------------------
function writeLink() {
  const changed = {};
  for (const [k, v] of Object.entries(setup)) {
    if (JSON.stringify(v) !== JSON.stringify(info.default[k])) changed[k] = v;
  }
  if (claim) changed.preset = claim.id;
  const hash = Object.keys(changed).length ? "#" + new URLSearchParams({setup: JSON.stringify(changed)}) : "";
  history.replaceState(null, "", location.pathname + location.search + hash);
}

function readLink() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has("setup")) return null;
  try {
    const s = JSON.parse(params.get("setup"));
    if (s && typeof s === "object" && !Array.isArray(s)) {
      if (s.preset) { claim = info.presets.find((p) => p.id === s.preset) || null; delete s.preset; }
      if (claim && !presetMatches(claim, {...info.default, ...s})) claim = null;
      return s;
    }
  } catch (e) { /* a broken link: the default setup, and a message */ }
  showMessage("the link's setup could not be read: the default setup is shown");
  return null;
}

function sendSpeed() {
  const v = $("speed").value;
  send({type: "speed", steps_per_second: v === "full" ? null : Number(v)});
}

async function main() {
  info = await (await fetch("/api/info")).json();
  const feats = $("features");
  for (const f of info.features) {
    const l = document.createElement("label"), c = document.createElement("input");
    c.type = "checkbox"; c.value = f;
    l.appendChild(c); l.appendChild(document.createTextNode(" " + f));
    feats.appendChild(l);
  }
  for (const el of document.querySelectorAll("#controls input, #controls select")) {
    if (!el.closest("#widths")) el.addEventListener("change", () => applySetup());
  }
  $("layer_plus").addEventListener("click", () => {
    if (hidden.length < info.limits.layers) { hidden.push(hidden.length ? hidden[hidden.length - 1] : 4); applySetup(); renderWidths(); }
  });
  $("layer_minus").addEventListener("click", () => { if (hidden.length) { hidden.pop(); applySetup(); renderWidths(); } });
  $("apply").addEventListener("click", () => applySetup());
  $("play").addEventListener("click", () => {
    playing = !playing;
    $("play").textContent = playing ? t("pause") : t("play");
    send({type: playing ? "play" : "pause"});
  });
  $("step").addEventListener("click", () => { playing = false; $("play").textContent = t("play"); send({type: "step"}); });
  $("reset").addEventListener("click", () => { playing = false; $("play").textContent = t("play"); send({type: "reset"}); });
  $("export").addEventListener("click", () => send({type: "export"}));
  $("speed").addEventListener("change", sendSpeed);
  $("logscale").addEventListener("change", drawCurves);
  $("boundary").addEventListener("click", () => { if (chosen) chooseUnit(chosen.layer, chosen.unit); });
  $("regenerate").addEventListener("click", () => {
    dataSeed = Math.floor(Math.random() * 2147483647);  // new points; the net's seed stays
    applySetup(true);
  });
  $("presenter").addEventListener("click", () => {
    document.body.classList.toggle("presenter");
    if (points) { buildNet(); drawNet(); }
  });
  $("lang").addEventListener("change", () => { lang = $("lang").value; applyLang(); if (points) { buildNet(); drawNet(); } });
  fromLink = readLink();
  applyLang();
  showClaim();
  connect();
}

main();
