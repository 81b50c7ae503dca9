import { ValidationError } from '../../errors/app-error.js';

export interface Part {
  /** The form field name. */
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** The boundary of a `multipart/form-data` content type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Reads a quoted (or bare) parameter of a Content-Disposition header. */
function param(disposition: string, key: string): string | undefined {
  const re = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]+))`, 'i');
  const m = re.exec(disposition);
  if (!m) return undefined;
  if (m[2] !== undefined) return m[2].trim();
  // Browsers and undici percent-encode ", CR and LF in names; older clients backslash-escape.
  return m[1]!.replace(/\\(.)/g, '$1').replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');
}

/**
 * Splits a buffered `multipart/form-data` body (RFC 7578) into its parts. Uploads are
 * capped before they get here, so holding one in memory is bounded.
 */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new ValidationError('malformed multipart body: no boundary');
  for (;;) {
    at += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts;
    if (body[at] === 0x0d && body[at + 1] === 0x0a) at += 2;
    const headerEnd = body.indexOf('\r\n\r\n', at);
    if (headerEnd < 0) throw new ValidationError('malformed multipart body: unterminated part headers');
    const headers = new Map<string, string>();
    for (const raw of body.subarray(at, headerEnd).toString('utf8').split('\r\n')) {
      const colon = raw.indexOf(':');
      if (colon > 0) headers.set(raw.slice(0, colon).trim().toLowerCase(), raw.slice(colon + 1).trim());
    }
    const start = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next < 0) throw new ValidationError('malformed multipart body: unterminated part');
    const disposition = headers.get('content-disposition') ?? '';
    parts.push({
      name: param(disposition, 'name') ?? '',
      filename: param(disposition, 'filename'),
      contentType: headers.get('content-type'),
      data: body.subarray(start, next),
    });
    at = next + 2;
  }
}
