const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The small page the browser lands on after connecting (or failing to). */
export function page(status: number, title: string, detail: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>`
    + `<meta name="viewport" content="width=device-width"></head><body style="font-family:system-ui;max-width:36rem;margin:4rem auto">`
    + `<h1>${escape(title)}</h1><p>${escape(detail)}</p></body></html>`;
  return new Response(html, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "referrer-policy": "no-referrer", "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'" },
  });
}
