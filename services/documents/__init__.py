"""Invoice and receipt PDFs: rendered once per invoice state, stored, served by signed links.

    content.py   the plain, picklable data a document shows (no ORM, no WeasyPrint)
    sources.py   reads an invoice's rows (snapshot, lines, payment, card) into content
    render.py    Jinja2 HTML + print CSS → PDF with WeasyPrint; runs in a worker process
    pool.py      the process pool that keeps rendering off the event loop
    store.py     get-or-render-and-store in the `document` table, once per key
    links.py     signed, expiring download links

Kept import-light on purpose: a render worker unpickles `content` objects and must not
drag in the ORM, and the gateway process never imports WeasyPrint.
"""
