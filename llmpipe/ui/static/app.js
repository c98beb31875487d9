// llmpipe ui: sorting, filtering and choosing columns of the experiments table,
// row selection for compare and plots, and live updates of the pipeline page.
// Plain DOM, no libraries, nothing fetched from anywhere but this dashboard.
"use strict";

function cellValue(row, index) {
  const cell = row.cells[index];
  if (!cell) return "";
  return cell.dataset.value !== undefined && cell.dataset.value !== "" ? cell.dataset.value : cell.textContent.trim();
}

function isBlank(value) {
  return value === "" || value === "-";
}

function compareValues(a, b, numeric) {
  const blankA = isBlank(a), blankB = isBlank(b);
  if (blankA || blankB) return blankA === blankB ? 0 : blankA ? 1 : -1;  // blanks last
  if (numeric) {
    const x = Number(a), y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  }
  return a.localeCompare(b, undefined, { numeric: true });
}

function sortBy(table, header) {
  const index = Array.prototype.indexOf.call(header.parentNode.children, header);
  const descending = header.classList.contains("sorted-asc");
  table.querySelectorAll("th[data-sort]").forEach(th => th.classList.remove("sorted-asc", "sorted-desc"));
  header.classList.add(descending ? "sorted-desc" : "sorted-asc");
  const numeric = header.dataset.sort === "number";
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((r1, r2) => {
    const a = cellValue(r1, index), b = cellValue(r2, index);
    const order = compareValues(a, b, numeric);
    return descending && !isBlank(a) && !isBlank(b) ? -order : order;
  });
  rows.forEach(row => body.appendChild(row));
}

function applyFilter(table, text, counter) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const row of table.tBodies[0].rows) {
    const haystack = row.textContent.toLowerCase();
    const match = words.every(word => haystack.includes(word));
    row.classList.toggle("hidden", !match);
    if (match) shown += 1;
  }
  if (counter) counter.textContent = `${shown} of ${table.tBodies[0].rows.length} rows`;
}

function applyColumns(table) {
  const visible = {};
  document.querySelectorAll("[data-toggle-col]").forEach(box => { visible[box.dataset.toggleCol] = box.checked; });
  table.querySelectorAll("[data-col]").forEach(cell => cell.classList.toggle("hidden", visible[cell.dataset.col] === false));
  table.querySelectorAll("th[data-group]").forEach(group => {
    const count = Object.keys(visible).filter(key => key.startsWith(group.dataset.group + ":") && visible[key]).length;
    group.colSpan = Math.max(count, 1);
    group.classList.toggle("hidden", count === 0);
  });
}

function selectedIds(table) {
  return Array.from(table.querySelectorAll("input.row-select:checked")).map(box => box.value);
}

function initExperiments() {
  const table = document.getElementById("experiments");
  if (!table) return;
  table.querySelectorAll("th[data-sort]").forEach(th => th.addEventListener("click", () => sortBy(table, th)));
  const filter = document.getElementById("filter");
  const counter = document.getElementById("row-count");
  filter.addEventListener("input", () => applyFilter(table, filter.value, counter));
  document.querySelectorAll("[data-toggle-col]").forEach(box => box.addEventListener("change", () => applyColumns(table)));
  applyColumns(table);
  const compare = document.getElementById("compare"), plot = document.getElementById("plot");
  table.addEventListener("change", event => {
    if (!event.target.classList.contains("row-select")) return;
    event.target.closest("tr").classList.toggle("selected", event.target.checked);
    const ids = selectedIds(table);
    compare.disabled = ids.length !== 2;
    plot.disabled = ids.length === 0;
  });
  compare.addEventListener("click", () => {
    const [a, b] = selectedIds(table);
    window.location.href = `/experiments/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
  });
  plot.addEventListener("click", () => {
    const query = selectedIds(table).map(id => `rows=${encodeURIComponent(id)}`).join("&");
    window.location.href = `/plots?${query}`;
  });
  performance.mark("experiments-ready");
  document.body.dataset.ready = "experiments";
}

function initCompare() {
  document.querySelectorAll("input.hide-same").forEach(box => box.addEventListener("change", () => {
    document.getElementById(box.dataset.table).classList.toggle("only-changed", box.checked);
  }));
}

function initLive() {
  const box = document.getElementById("pipeline");
  if (!box) return;
  let busy = false;
  async function poll() {
    if (busy) return;
    busy = true;
    try {
      const live = await (await fetch(box.dataset.liveUrl, { cache: "no-store" })).json();
      if (live.sig !== box.dataset.sig) {
        const fragment = await fetch(box.dataset.fragmentUrl, { cache: "no-store" });
        if (fragment.ok) {
          box.innerHTML = await fragment.text();
          box.dataset.sig = live.sig;
          document.body.dataset.updated = String(Date.now());
        }
      }
    } catch (error) {
      // The server stopped or restarts: try again on the next tick.
    } finally {
      busy = false;
    }
  }
  window.setInterval(poll, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  initExperiments();
  initCompare();
  initLive();
});
