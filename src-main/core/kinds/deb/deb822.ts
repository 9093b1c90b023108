/**
 * deb822 control-file fields (Release, Packages stanzas): "Name: value" lines, continuation lines
 * starting with a space or tab. Field names are case-insensitive in Debian policy; we keep the
 * spelling of the file and look names up through a lower-cased map.
 */
export type Fields = Map<string, string>;

/** Parses one stanza (no blank lines inside). Continuation lines are joined with "\n". */
export function parseStanza(text: string): Fields {
  const fields: Fields = new Map();
  let name = '';
  let value = '';
  const flush = (): void => {
    if (name) fields.set(name.toLowerCase(), value);
  };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      value += '\n' + line.slice(1);
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) {
      name = '';
      continue;
    }
    name = line.slice(0, colon);
    value = line.slice(colon + 1).trim();
  }
  flush();
  return fields;
}
