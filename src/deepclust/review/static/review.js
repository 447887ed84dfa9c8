// deepclust review: the page that fixes a run's clusters. Plain JavaScript, nothing fetched but this server's API.
// Every edit is sent as JSON; the server answers once it is on disk, with the clusters as they now are.
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;          // /api/state: the clusters as they are
let view = "clusters";     // clusters | cluster | map
let page = null;           // /api/cluster: the cluster shown and its page of members
let shown = [];            // rows of the images on screen, in order (for Shift-click ranges)
let lastIndex = null;      // the last image clicked, as an index into `shown`
const selected = new Set();
const ticked = new Set();  // clusters ticked to merge
let proposal = null;       // a split shown before it is applied
let mapData = null;
let navigation = 0;        // grows whenever the person goes elsewhere: a late answer does not pull them back

async function call(method, url, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
  return data;
}

function say(text, isError) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

async function act(what, run) {
  try {
    const result = await run();
    if (what) say(what);
    return result;
  } catch (e) {
    say(e.message, true);
    return null;
  }
}

function clusterLabel(c) {
  if (c.aside) return "set aside / in no cluster";
  return `cluster ${c.id}` + (c.name ? ` · ${c.name}` : "");
}

function thumb(t, title) {
  const [row, sheet, place] = t;
  const d = document.createElement("div");
  d.className = "thumb";
  d.dataset.row = row;
  d.title = title || `image ${row}`;
  if (sheet >= 0) {
    const col = place % state.columns, line = Math.floor(place / state.columns);
    d.style.backgroundImage = `url(/sheet/${sheet})`;
    d.style.backgroundSize = `${state.columns * 64}px auto`;
    d.style.backgroundPosition = `-${col * 64}px -${line * 64}px`;
  } else if (sheet === -1) {
    const img = document.createElement("img");
    img.loading = "lazy";
    img.alt = d.title;
    img.src = `/image/${row}?size=64`;
    d.appendChild(img);
  } else {
    d.textContent = d.title;
  }
  if (selected.has(row)) d.classList.add("selected");
  return d;
}

// what the page shows

function render() {
  $("readonly").hidden = !state.read_only;
  $("undo").disabled = !state.can_undo || state.read_only;
  $("redo").disabled = !state.can_redo || state.read_only;
  const real = state.clusters.filter((c) => !c.aside).length;
  $("counts").textContent = `${state.n_images.toLocaleString()} images · ${real} clusters · ${state.edits} edits`;
  $("overview").hidden = view !== "clusters";
  $("cluster").hidden = view !== "cluster";
  $("map").hidden = view !== "map";
  $("tab-clusters").classList.toggle("active", view !== "map");
  $("tab-map").classList.toggle("active", view === "map");
  renderMoveTargets();
  renderSelection();
  if (view === "clusters") renderOverview();
  if (view === "map") drawMap();
}

function renderOverview() {
  const box = $("clusters");
  box.replaceChildren();
  for (const c of state.clusters) {
    const card = document.createElement("div");
    card.className = "card" + (c.aside ? " aside" : "");
    card.dataset.cluster = c.id;
    const tick = document.createElement("input");
    tick.type = "checkbox";
    tick.className = "tick";
    tick.disabled = c.aside;
    tick.checked = ticked.has(c.id);
    tick.title = "Tick to merge";
    tick.addEventListener("change", () => { if (tick.checked) ticked.add(c.id); else ticked.delete(c.id); });
    const head = document.createElement("div");
    head.className = "head";
    const name = document.createElement("div");
    name.className = "name" + (c.name || c.aside ? "" : " unnamed");
    name.textContent = c.aside ? "set aside / in no cluster" : `${c.id} · ${c.name || "(click to name)"}`;
    if (!c.aside) name.addEventListener("click", () => startRename(name, c));
    const facts = document.createElement("div");
    facts.className = "facts";
    facts.textContent = `${c.size.toLocaleString()} images · cohesion ${c.cohesion.toPrecision(3)}`;
    const open = document.createElement("button");
    open.className = "open";
    open.textContent = "Open";
    open.addEventListener("click", () => openCluster(c.id, 0));
    head.append(name, facts, open);
    const strip = document.createElement("div");
    strip.className = "strip";
    for (const t of c.strip) strip.appendChild(thumb(t));
    card.append(tick, head, strip);
    box.appendChild(card);
  }
}

function startRename(element, cluster) {
  if (state.read_only) return say("this run folder is read-only", true);
  const input = document.createElement("input");
  input.className = "rename-input";
  input.value = cluster.name || "";
  input.placeholder = "name";
  element.hidden = true;
  element.after(input);
  input.focus();
  input.select();  // typing replaces the name, the arrow keys edit it
  const close = () => { input.remove(); element.hidden = false; };
  input.addEventListener("keydown", async (e) => {
    e.stopPropagation();
    if (e.key === "Enter" && await edit({ op: "rename", cluster: cluster.id, name: input.value }, "renamed")) close();
    if (e.key === "Escape") close();
  });
}

function renderMoveTargets() {
  const select = $("move-to");
  const before = select.value;
  select.replaceChildren();
  for (const c of state.clusters) {
    if (c.aside) continue;
    const o = document.createElement("option");
    o.value = c.id;
    o.textContent = clusterLabel(c);
    select.appendChild(o);
  }
  if ([...select.options].some((o) => o.value === before)) select.value = before;
}

function renderSelection() {
  $("selected").textContent = selected.size ? `${selected.size} selected` : "nothing selected";
  for (const id of ["move", "move-new", "aside", "more", "clear"]) $(id).disabled = selected.size === 0;
}

function goTo(where) {
  navigation++;
  view = where;
  render();
}

async function openCluster(id, p, refresh) {
  const ticket = refresh ? navigation : ++navigation;
  const data = await act("", () => call("GET", `/api/cluster?id=${id}&page=${p}`));
  if (!data || ticket !== navigation) return;
  if (!page || page.id !== id) { selected.clear(); proposal = null; $("similar-panel").hidden = true; }
  page = data;
  view = "cluster";
  render();
  renderCluster();
}

function renderCluster() {
  const c = state.clusters.find((x) => x.id === page.id);
  $("cluster-title").textContent = c ? `${clusterLabel(c)} · ${page.size.toLocaleString()} images`
    : `cluster ${page.id}`;
  $("rename").disabled = page.aside;
  $("split").disabled = page.aside;
  $("page").textContent = `page ${page.page + 1} of ${page.pages}`;
  $("prev").disabled = page.page === 0;
  $("next").disabled = page.page >= page.pages - 1;
  const grid = $("members");
  grid.replaceChildren();
  shown = page.items.map((t) => t[0]);
  page.items.forEach((t, i) => {
    const d = thumb(t, t[3]);
    d.addEventListener("click", (e) => clickImage(i, e.shiftKey));
    grid.appendChild(d);
  });
  renderProposal();
}

function clickImage(i, range) {
  if (range && lastIndex !== null) {
    const [a, b] = [Math.min(lastIndex, i), Math.max(lastIndex, i)];
    for (let k = a; k <= b; k++) selected.add(shown[k]);
  } else if (selected.has(shown[i])) {
    selected.delete(shown[i]);
  } else {
    selected.add(shown[i]);
  }
  lastIndex = i;
  for (const el of document.querySelectorAll(".thumb")) {
    el.classList.toggle("selected", selected.has(Number(el.dataset.row)));
  }
  renderSelection();
}

function renderProposal() {
  const box = $("split-preview");
  box.hidden = !proposal || proposal.cluster !== page.id;
  if (box.hidden) return;
  $("split-count").textContent = proposal.parts.length;
  const parts = $("parts");
  parts.replaceChildren();
  proposal.preview.forEach((thumbs, k) => {
    const line = document.createElement("div");
    line.className = "part";
    const label = document.createElement("div");
    label.textContent = `part ${k + 1}: ${proposal.parts[k].length} images`;
    const strip = document.createElement("div");
    strip.className = "strip";
    for (const t of thumbs) strip.appendChild(thumb(t));
    line.append(label, strip);
    parts.appendChild(line);
  });
}

// edits

async function edit(body, done) {
  const result = await act(done, () => call("POST", "/api/edit", body));
  if (result) await update(result);
  return result;
}

async function update(result) {
  if (state && result.version < state.version) return;  // an answer that left before a newer one: already shown
  state = result;
  for (const id of [...ticked]) if (!state.clusters.some((c) => c.id === id)) ticked.delete(id);
  if (view === "cluster") {
    if (state.clusters.some((c) => c.id === page.id)) {
      render();
      await openCluster(page.id, page.page, true);
      return;
    }
    view = "clusters";
  }
  if (view === "map") mapData = await call("GET", "/api/map");
  render();
}

async function moveSelection(to) {
  const rows = [...selected];
  const result = await edit({ op: "move", rows, to }, `moved ${rows.length} images`);
  if (result) { selected.clear(); renderSelection(); }
}

async function setAside() {
  const rows = [...selected];
  const result = await edit({ op: "aside", rows }, `set ${rows.length} images aside`);
  if (result) { selected.clear(); renderSelection(); }
}

async function merge() {
  const clusters = state.clusters.filter((c) => ticked.has(c.id)).map((c) => c.id);
  if (clusters.length < 2) return say("tick two clusters or more to merge", true);
  const into = clusters.includes([...ticked][0]) ? [...ticked][0] : clusters[0];
  const result = await edit({ op: "merge", clusters, into }, `merged ${clusters.length} clusters into ${into}`);
  if (result) ticked.clear();
  render();
}

async function showSplit() {
  const n = Number($("split-n").value);
  proposal = await act("", () => call("POST", "/api/propose-split", { cluster: page.id, n }));
  renderProposal();
}

async function applySplit() {
  if (!proposal) return;
  const body = { op: "split", cluster: proposal.cluster, parts: proposal.parts };
  const result = await edit(body, `split into ${proposal.parts.length}`);
  if (result) proposal = null;
  renderProposal();
}

async function moreLikeThis() {
  const data = await act("", () => call("POST", "/api/similar", { rows: [...selected] }));
  if (!data) return;
  $("similar-panel").hidden = false;
  const grid = $("similar");
  grid.replaceChildren();
  const rows = data.items.map((t) => t[0]);
  data.items.forEach((t) => {
    const d = thumb(t, `${t[3]} (cluster ${t[4]})`);
    d.addEventListener("click", () => {
      if (selected.has(t[0])) selected.delete(t[0]); else selected.add(t[0]);
      d.classList.toggle("selected", selected.has(t[0]));
      renderSelection();
    });
    grid.appendChild(d);
  });
  say(`${rows.length} images nearest to the selection; click to add them to it`);
}

async function undoRedo(which) {
  const result = await act(which === "undo" ? "undone" : "redone", () => call("POST", `/api/${which}`, {}));
  if (result) await update(result);
}

// the map

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];
const MARGIN = 10;
let box = null;

async function showMap() {
  goTo("map");
  const ticket = navigation;
  mapData = await act("", () => call("GET", "/api/map"));
  if (ticket === navigation) render();
}

function mapXY(i) {
  const canvas = $("map-canvas");
  return [MARGIN + mapData.x[i] * (canvas.width - 2 * MARGIN), MARGIN + (1 - mapData.y[i]) * (canvas.height - 2 * MARGIN)];
}

function drawMap() {
  if (!mapData) return;
  const canvas = $("map-canvas");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const n = mapData.x.length;
  const size = n > 20000 ? 1.5 : 3;
  for (let i = 0; i < n; i++) {
    const label = mapData.labels[i];
    ctx.fillStyle = label === state.aside ? "#cccccc" : PALETTE[((label % PALETTE.length) + PALETTE.length) % PALETTE.length];
    const [x, y] = mapXY(i);
    ctx.fillRect(x - size / 2, y - size / 2, size, size);
  }
  ctx.fillStyle = "#000";
  for (const i of selected) {
    const [x, y] = mapXY(i);
    ctx.fillRect(x - 2, y - 2, 4, 4);
  }
  if (box) {
    ctx.strokeStyle = "#1a73e8";
    ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
  }
}

function canvasPoint(e) {
  const canvas = $("map-canvas");
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
}

function setUpMap() {
  const canvas = $("map-canvas");
  canvas.addEventListener("mousedown", (e) => {
    const [x, y] = canvasPoint(e);
    box = { x0: x, y0: y, x1: x, y1: y, add: e.shiftKey };
  });
  canvas.addEventListener("mousemove", (e) => {
    if (!box) return;
    [box.x1, box.y1] = canvasPoint(e);
    drawMap();
  });
  window.addEventListener("mouseup", () => {
    if (!box || !mapData) { box = null; return; }
    const [xa, xb] = [Math.min(box.x0, box.x1), Math.max(box.x0, box.x1)];
    const [ya, yb] = [Math.min(box.y0, box.y1), Math.max(box.y0, box.y1)];
    if (!box.add) selected.clear();
    for (let i = 0; i < mapData.x.length; i++) {
      const [x, y] = mapXY(i);
      if (x >= xa && x <= xb && y >= ya && y <= yb) selected.add(i);
    }
    box = null;
    drawMap();
    renderSelection();
  });
}

// keys and buttons

function setUp() {
  $("tab-clusters").addEventListener("click", () => goTo("clusters"));
  $("tab-map").addEventListener("click", showMap);
  $("undo").addEventListener("click", () => undoRedo("undo"));
  $("redo").addEventListener("click", () => undoRedo("redo"));
  $("merge").addEventListener("click", merge);
  $("back").addEventListener("click", () => goTo("clusters"));
  $("prev").addEventListener("click", () => openCluster(page.id, page.page - 1));
  $("next").addEventListener("click", () => openCluster(page.id, page.page + 1));
  $("rename").addEventListener("click", () => startRename($("cluster-title"), state.clusters.find((c) => c.id === page.id)));
  $("split").addEventListener("click", showSplit);
  $("apply-split").addEventListener("click", applySplit);
  $("cancel-split").addEventListener("click", () => { proposal = null; renderProposal(); });
  $("move").addEventListener("click", () => moveSelection(Number($("move-to").value)));
  $("move-new").addEventListener("click", () => moveSelection(null));
  $("aside").addEventListener("click", setAside);
  $("more").addEventListener("click", moreLikeThis);
  $("clear").addEventListener("click", () => { selected.clear(); render(); if (view === "cluster") renderCluster(); });
  setUpMap();
  document.addEventListener("keydown", (e) => {
    const focus = document.activeElement;  // typing into a field is not a shortcut; a ticked box keeps them
    if (["SELECT", "TEXTAREA"].includes(focus.tagName) || (focus.tagName === "INPUT" && focus.type !== "checkbox")) return;
    const key = e.key;
    if ((e.ctrlKey || e.metaKey) && (key === "y" || (key.toLowerCase() === "z" && e.shiftKey))) undoRedo("redo");
    else if ((e.ctrlKey || e.metaKey) && key === "z") undoRedo("undo");
    else if (e.ctrlKey || e.metaKey || e.altKey) return;
    else if (key === "u") undoRedo("undo");
    else if (key === "U") undoRedo("redo");
    else if (key === "m") merge();
    else if (key === "a" && selected.size) setAside();
    else if (key === "n" && selected.size) moveSelection(null);
    else if (key === "Enter" && selected.size) moveSelection(Number($("move-to").value));
    else if (key === "s" && selected.size) moreLikeThis();
    else if (key === "g") showMap();
    else if (key === "c") goTo("clusters");
    else if (key === "r" && view === "cluster") $("rename").click();
    else if (key === "ArrowLeft" && view === "cluster" && page.page > 0) openCluster(page.id, page.page - 1);
    else if (key === "ArrowRight" && view === "cluster" && page.page < page.pages - 1) openCluster(page.id, page.page + 1);
    else if (key === "Escape") {
      if (selected.size) { selected.clear(); render(); if (view === "cluster") renderCluster(); }
      else if (view !== "clusters") goTo("clusters");
    } else return;
    e.preventDefault();
  });
  // another page on the same run: its edits show here within a few seconds
  setInterval(async () => {
    try {
      const now = await call("GET", "/api/state");
      if (state && now.version > state.version) await update(now);
    } catch (e) { /* the server stopped: the next action says so */ }
  }, 3000);
}

(async () => {
  setUp();
  state = await act("", () => call("GET", "/api/state"));
  if (state) render();
})();
