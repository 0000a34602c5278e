/* exposure-reporter: the explorer of report.html (docs/report.md, "Explorable HTML"). It reads the data
   embedded in #explore-data and builds filterable, sortable, searchable tables. Text goes into the page
   only through textContent (never as HTML); nothing is fetched; without scripts the section stays hidden. */
(function () {
  "use strict";
  var island = document.getElementById("explore-data");
  var app = document.getElementById("explore-app");
  var section = document.getElementById("explore");
  if (!island || !app || !section) { return; }
  var data = JSON.parse(island.textContent);
  var PAGE = 50;
  var MAX_CHOICES = 200;
  // Control and bidi characters are shown as code points, as in the rest of the report (they could
  // reorder or hide what a reader sees).
  var INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

  function text(value) {
    if (value === null || value === undefined) { return ""; }
    return String(value).replace(INVISIBLE, function (c) {
      return "\u27e8U+" + ("000" + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4) + "\u27e9";
    });
  }

  function num(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function compare(a, b) {
    var an = a === null || a === undefined || a === "";
    var bn = b === null || b === undefined || b === "";
    if (an || bn) { return an === bn ? 0 : an ? 1 : -1; }  // empty cells last in both directions
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    a = String(a); b = String(b);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function Explorer(table) {
    this.t = table;
    this.key = "x-" + table.id;
    this.shown = [];
    this.fields = -1;
    var self = this;
    table.columns.forEach(function (c, i) {
      if (c.show) { self.shown.push(i); }
      if (c.name === "fields") { self.fields = i; }
    });
    this.order = table.rows.map(function (_, i) { return i; });
    this.sort = {col: -1, dir: 1};
    this.filters = {};
    this.query = "";
    this.page = 0;
    this.open = {};
    this.hay = [];
  }

  Explorer.prototype.haystack = function (i) {
    if (this.hay[i] === undefined) {
      var row = this.t.rows[i];
      var parts = row.map(function (v) {
        return v !== null && typeof v === "object" ? Object.keys(v).map(function (k) { return k + " " + v[k]; }).join(" ") : text(v);
      });
      this.hay[i] = parts.join("\n").toLowerCase();
    }
    return this.hay[i];
  };

  Explorer.prototype.matches = function (i) {
    var row = this.t.rows[i];
    var filters = this.filters;
    for (var col in filters) {
      if (filters[col] !== null && text(row[col]) !== filters[col]) { return false; }
    }
    return this.query === "" || this.haystack(i).indexOf(this.query) !== -1;
  };

  Explorer.prototype.refresh = function () {
    var rows = this.t.rows;
    var picked = [];
    for (var i = 0; i < rows.length; i++) { if (this.matches(i)) { picked.push(i); } }
    if (this.sort.col >= 0) {
      var col = this.sort.col;
      var dir = this.sort.dir;
      var rank = this.t.columns[col].rank || [];
      var key = function (value) {  // an ordinal column (risk, severity) sorts by its rank, not its name
        var at = rank.indexOf(value);
        return !rank.length || value === null || value === "" ? value : at < 0 ? rank.length : at;
      };
      picked.sort(function (a, b) { return dir * compare(key(rows[a][col]), key(rows[b][col])) || a - b; });
    }
    this.order = picked;
    var pages = Math.max(1, Math.ceil(picked.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    this.draw(pages);
  };

  Explorer.prototype.draw = function (pages) {
    var body = el("tbody");
    var start = this.page * PAGE;
    var slice = this.order.slice(start, start + PAGE);
    var self = this;
    slice.forEach(function (i) { self.drawRow(body, i); });
    if (!slice.length) {
      var empty = el("tr");
      empty.appendChild(el("td", {colspan: String(this.shown.length + 1), "class": "empty"}, "No row matches."));
      body.appendChild(empty);
    }
    this.tbody.replaceWith(body);
    this.tbody = body;
    var t = this.t;
    this.count.textContent = num(this.order.length) + " of " + num(t.rows.length) + " embedded rows match" +
      (t.total > t.rows.length ? " (" + num(t.total) + " in all: see " + t.file + ")" : "") + ".";
    this.pageLabel.textContent = "Page " + (this.page + 1) + " of " + pages;
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  };

  Explorer.prototype.drawRow = function (body, i) {
    var row = this.t.rows[i];
    var self = this;
    var tr = el("tr", {"data-row": String(i)});
    var cell = el("td");
    var button = el("button", {type: "button", "class": "x-open", "aria-expanded": this.open[i] ? "true" : "false",
                               "aria-controls": this.key + "-d" + i}, this.open[i] ? "Close" : "Open");
    button.addEventListener("click", function () { self.open[i] = !self.open[i]; self.refresh(); });
    cell.appendChild(button);
    tr.appendChild(cell);
    this.shown.forEach(function (c) { tr.appendChild(el("td", {}, text(row[c]))); });
    body.appendChild(tr);
    if (this.open[i]) { body.appendChild(this.detail(i)); }
  };

  Explorer.prototype.detail = function (i) {
    var row = this.t.rows[i];
    var tr = el("tr", {"class": "x-detail", id: this.key + "-d" + i});
    var td = el("td", {colspan: String(this.shown.length + 1)});
    var list = el("dl", {"class": "x-fields"});
    this.t.columns.forEach(function (c, n) {
      if (c.name === "fields" || row[n] === null || row[n] === "") { return; }
      list.appendChild(el("dt", {}, c.label));
      list.appendChild(el("dd", {"data-name": c.name}, text(row[n])));
    });
    td.appendChild(list);
    var fields = this.fields >= 0 ? row[this.fields] : null;
    if (fields && Object.keys(fields).length) {
      var table = el("table", {"class": "data compact x-record"});
      table.appendChild(el("caption", {}, "Fields of the cited record"));
      var body = el("tbody");
      Object.keys(fields).sort().forEach(function (name) {
        var line = el("tr");
        line.appendChild(el("th", {scope: "row"}, text(name)));
        line.appendChild(el("td", {}, text(fields[name])));
        body.appendChild(line);
      });
      table.appendChild(body);
      td.appendChild(table);
    }
    tr.appendChild(td);
    return tr;
  };

  Explorer.prototype.control = function (box, label, input) {
    var wrap = el("label", {"class": "x-control"}, label + " ");
    wrap.appendChild(input);
    box.appendChild(wrap);
  };

  Explorer.prototype.build = function () {
    var self = this;
    var t = this.t;
    var part = el("section", {"class": "x-table", id: this.key, "aria-labelledby": this.key + "-h"});
    part.appendChild(el("h3", {id: this.key + "-h"}, t.title));
    var box = el("div", {"class": "x-controls"});
    var search = el("input", {type: "search", id: this.key + "-search", autocomplete: "off"});
    search.addEventListener("input", function () { self.query = search.value.toLowerCase(); self.page = 0; self.refresh(); });
    this.control(box, "Search", search);
    t.columns.forEach(function (c, n) { if (c.facet) { self.facet(box, c, n); } });
    part.appendChild(box);
    this.count = el("p", {"class": "x-count", "aria-live": "polite"});
    part.appendChild(this.count);
    var wrap = el("div", {"class": "table-wrap", tabindex: "0"});
    var table = el("table", {"class": "data compact x-grid", id: this.key + "-table"});
    table.appendChild(el("caption", {}, t.title + ": select Open on a row for its evidence"));
    var head = el("tr");
    head.appendChild(el("th", {scope: "col"}, "Evidence"));
    this.heads = [];
    this.shown.forEach(function (c) { head.appendChild(self.header(c)); });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    this.tbody = el("tbody");
    table.appendChild(this.tbody);
    wrap.appendChild(table);
    part.appendChild(wrap);
    var pager = el("p", {"class": "x-pager"});
    this.prev = el("button", {type: "button"}, "Previous page");
    this.next = el("button", {type: "button"}, "Next page");
    this.pageLabel = el("span", {"aria-live": "polite"});
    this.prev.addEventListener("click", function () { self.page -= 1; self.refresh(); });
    this.next.addEventListener("click", function () { self.page += 1; self.refresh(); });
    pager.appendChild(this.prev);
    pager.appendChild(this.pageLabel);
    pager.appendChild(this.next);
    part.appendChild(pager);
    app.appendChild(part);
    this.refresh();
  };

  Explorer.prototype.header = function (c) {
    var self = this;
    var th = el("th", {scope: "col", "aria-sort": "none"});
    var button = el("button", {type: "button", "class": "x-sort", "data-name": this.t.columns[c].name},
                    this.t.columns[c].label);
    button.addEventListener("click", function () {
      self.sort = {col: c, dir: self.sort.col === c ? -self.sort.dir : 1};
      self.heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", self.sort.dir === 1 ? "ascending" : "descending");
      self.refresh();
    });
    th.appendChild(button);
    this.heads.push(th);
    return th;
  };

  Explorer.prototype.facet = function (box, column, n) {
    var seen = {};
    this.t.rows.forEach(function (row) { seen[text(row[n])] = true; });
    var values = Object.keys(seen).sort();
    if (values.length < 2 || values.length > MAX_CHOICES) { return; }
    var self = this;
    var select = el("select", {id: this.key + "-f-" + column.name});
    select.appendChild(el("option", {value: "-1"}, "all"));
    values.forEach(function (v, k) { select.appendChild(el("option", {value: String(k)}, v === "" ? "(empty)" : v)); });
    select.addEventListener("change", function () {
      self.filters[n] = select.value === "-1" ? null : values[Number(select.value)];
      self.page = 0;
      self.refresh();
    });
    this.control(box, column.label, select);
  };

  data.tables.forEach(function (table) { new Explorer(table).build(); });
  var toc = document.querySelector(".toc ol");
  if (toc) {
    var item = el("li");
    item.appendChild(el("a", {href: "#explore"}, "Explore the evidence"));
    toc.appendChild(item);
  }
  section.hidden = false;
}());
