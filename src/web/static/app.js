// Keyboard shortcuts and small conveniences for the review queue. Loaded as a
// same-origin file (the CSP allows no inline script); the pages work without it.
(function () {
  'use strict'
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr[data-href]'))
  // The row the analyst came back from (返回队列 / q keeps ?sel=) starts selected.
  var current = -1
  rows.forEach(function (row, i) { if (current < 0 && row.classList.contains('sel')) current = i })
  if (current >= 0) rows[current].scrollIntoView({ block: 'center' })
  function select(i) {
    if (!rows.length) return
    if (current >= 0) rows[current].classList.remove('sel')
    current = Math.max(0, Math.min(rows.length - 1, i))
    rows[current].classList.add('sel')
    rows[current].scrollIntoView({ block: 'nearest' })
  }
  // On a phone the filters start folded (their summary says how many are set).
  var filterBox = document.getElementById('filterbox')
  if (filterBox && window.matchMedia && window.matchMedia('(max-width: 700px)').matches) filterBox.open = false
  var all = document.getElementById('select-all')
  if (all) {
    all.addEventListener('change', function () {
      document.querySelectorAll('input[name="ids"]').forEach(function (c) { c.checked = all.checked })
    })
  }
  rows.forEach(function (row, i) {
    row.addEventListener('click', function (e) {
      if (e.target.closest('a, input, button, label')) return
      select(i)
    })
    row.addEventListener('dblclick', function () { window.location.href = row.getAttribute('data-href') })
  })
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return
    var tag = (e.target && e.target.tagName) || ''
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || (e.target && e.target.isContentEditable)) {
      if (e.key === 'Escape') e.target.blur()
      return
    }
    if (rows.length) {
      if (e.key === 'j') { select(current + 1); e.preventDefault(); return }
      if (e.key === 'k') { select(current - 1); e.preventDefault(); return }
      if ((e.key === 'o' || e.key === 'Enter') && current >= 0) { window.location.href = rows[current].getAttribute('data-href'); return }
      if (e.key === 'x' && current >= 0) {
        var box = rows[current].querySelector('input[name="ids"]')
        if (box) box.checked = !box.checked
        e.preventDefault()
        return
      }
    }
    var target = document.querySelector('[data-key="' + (e.key === '"' ? '' : e.key) + '"]')
    if (!target) return
    e.preventDefault()
    if (target.tagName === 'FORM') {
      if (typeof target.requestSubmit === 'function') target.requestSubmit()
      else target.submit()
    } else if (target.tagName === 'A') {
      window.location.href = target.getAttribute('href')
    } else {
      target.focus()
    }
  })
})()
