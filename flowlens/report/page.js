// flowlens report: sorting, filtering, search and evidence links. No network, no eval, no
// innerHTML: the page's markup is built (and escaped) by flowlens; this only shows and hides it.
(function () {
  'use strict';
  var doc = document;
  function all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }
  function text(el) { return (el.textContent || '').toLowerCase(); }

  // Sorting: a click on a header sorts by that column, again reverses. Numeric cells carry data-v.
  function sortBy(th) {
    var table = th.closest('table'), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    all('th', table).forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var cell = row.cells[col];
      if (!cell) { return ''; }
      var v = cell.getAttribute('data-v');
      return v !== null ? parseFloat(v) : (cell.textContent || '').trim().toLowerCase();
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (typeof x === 'number' && typeof y === 'number') { return dir * (x - y); }
      if (typeof x === 'number') { return -dir; }
      if (typeof y === 'number') { return dir; }
      return dir * (x < y ? -1 : x > y ? 1 : 0);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  all('table.sortable th[data-sort]').forEach(function (th) {
    th.tabIndex = 0;
    th.addEventListener('click', function () { sortBy(th); });
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(th); } });
  });

  // A row shows when it passes both its table's filter box and the page's search box.
  function apply(row) {
    row.hidden = row.getAttribute('data-f') === '0' || row.getAttribute('data-q') === '0';
  }
  all('input.tfilter').forEach(function (box) {
    var table = box.parentNode.querySelector('table');
    box.addEventListener('input', function () {
      var q = box.value.trim().toLowerCase();
      all('tbody tr', table).forEach(function (row) {
        row.setAttribute('data-f', !q || text(row).indexOf(q) >= 0 ? '1' : '0');
        apply(row);
      });
    });
  });

  var search = doc.getElementById('search'), status = doc.getElementById('search-status');
  var opened = [];
  function runSearch() {
    var q = search.value.trim().toLowerCase(), hits = 0;
    all('main tbody tr').forEach(function (row) {
      var ok = !q || text(row).indexOf(q) >= 0;
      if (ok && q) { hits += 1; }
      row.setAttribute('data-q', ok ? '1' : '0');
      apply(row);
    });
    opened.forEach(function (d) { d.open = false; });
    opened = [];
    all('details.sg, details.noisy, details.ev').forEach(function (d) {
      var ok = !q || text(d).indexOf(q) >= 0;
      d.hidden = !ok;
      if (ok && q && !d.open) { d.open = true; opened.push(d); }
    });
    status.textContent = q ? hits + ' matching rows' : '';
  }
  if (search) { search.addEventListener('input', runSearch); }

  // Evidence links: open what hides the target, mark it, and put it in view.
  function reveal(id) {
    var target = doc.getElementById(id);
    if (!target) { return; }
    for (var p = target.parentNode; p && p !== doc.body; p = p.parentNode) {
      if (p.tagName === 'DETAILS') { p.open = true; }
      p.hidden = false;
    }
    target.hidden = false;
    if (target.tagName === 'DETAILS') { target.open = true; }
    all('.targeted').forEach(function (el) { el.classList.remove('targeted'); });
    target.classList.add('targeted');
    target.scrollIntoView({block: 'start'});
  }
  doc.addEventListener('click', function (e) {
    var a = e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (!a) { return; }
    var id = decodeURIComponent(a.getAttribute('href').slice(1));
    if (!doc.getElementById(id)) { return; }
    e.preventDefault();
    if (history.replaceState) { history.replaceState(null, '', '#' + encodeURIComponent(id)); }
    reveal(id);
  });
  if (location.hash.length > 1) { reveal(decodeURIComponent(location.hash.slice(1))); }
}());
