/**
 * The little XML the WS-Management client needs: a namespace-aware reader for SOAP envelopes (elements are
 * matched by namespace URI and local name, whatever prefixes the server chose) and escaping for writing them.
 * No DTDs: a document that declares one is refused, so no entity expansion can be smuggled in.
 */

export interface XmlElement {
  /** Namespace URI, or '' for none. */
  ns: string;
  name: string;
  /** Attributes by local name (prefixes dropped); namespace declarations are not included. */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text, its children's left out. */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  return raw.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|[a-z]+);/g, (match, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const named = ENTITIES[ref];
    if (named === undefined) throw new XmlError(`unknown entity ${match}`);
    return named;
  });
}

export function parseXml(source: string): XmlElement {
  let at = 0;
  const stack: { element: XmlElement; scope: Map<string, string>; qname: string }[] = [];
  let root: XmlElement | null = null;

  const fail = (why: string): never => {
    throw new XmlError(`${why} at offset ${at}`);
  };
  const resolve = (prefix: string, scope: Map<string, string>): string => {
    if (prefix === 'xml') return XML_NS;
    const ns = scope.get(prefix);
    if (ns === undefined) return prefix === '' ? '' : fail(`undeclared namespace prefix ${prefix}`);
    return ns;
  };

  if (source.charCodeAt(0) === 0xfeff) at = 1;
  while (at < source.length) {
    const lt = source.indexOf('<', at);
    const textEnd = lt === -1 ? source.length : lt;
    if (textEnd > at) {
      const text = source.slice(at, textEnd);
      const top = stack.at(-1);
      if (top) top.element.text += decodeEntities(text);
      else if (text.trim() !== '') fail('text outside the root element');
    }
    if (lt === -1) break;
    at = lt;

    if (source.startsWith('<?', at)) {
      const end = source.indexOf('?>', at);
      if (end === -1) fail('unterminated processing instruction');
      at = end + 2;
    } else if (source.startsWith('<!--', at)) {
      const end = source.indexOf('-->', at);
      if (end === -1) fail('unterminated comment');
      at = end + 3;
    } else if (source.startsWith('<![CDATA[', at)) {
      const end = source.indexOf(']]>', at);
      if (end === -1) fail('unterminated CDATA section');
      const top = stack.at(-1) ?? fail('CDATA outside the root element');
      top.element.text += source.slice(at + 9, end);
      at = end + 3;
    } else if (source.startsWith('<!', at)) {
      fail('document type declarations are not accepted');
    } else if (source.startsWith('</', at)) {
      const end = source.indexOf('>', at);
      if (end === -1) fail('unterminated end tag');
      const qname = source.slice(at + 2, end).trim();
      const open = stack.pop() ?? fail(`end tag </${qname}> without a start tag`);
      if (open.qname !== qname) fail(`end tag </${qname}> does not match <${open.qname}>`);
      at = end + 1;
    } else {
      at += 1;
      const qname = NAME.exec(source.slice(at, at + 256))?.[0] ?? fail('malformed start tag');
      at += qname.length;
      const raw: [string, string][] = [];
      let selfClosing = false;
      for (;;) {
        while (/\s/.test(source[at] ?? '')) at += 1;
        if (source.startsWith('/>', at)) {
          selfClosing = true;
          at += 2;
          break;
        }
        if (source[at] === '>') {
          at += 1;
          break;
        }
        const attr = NAME.exec(source.slice(at, at + 256))?.[0] ?? fail(`malformed attribute in <${qname}>`);
        at += attr.length;
        while (/\s/.test(source[at] ?? '')) at += 1;
        if (source[at] !== '=') fail(`attribute ${attr} has no value`);
        at += 1;
        while (/\s/.test(source[at] ?? '')) at += 1;
        const quote = source[at];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} is not quoted`);
        const end = source.indexOf(quote as string, at + 1);
        if (end === -1) fail(`unterminated value of attribute ${attr}`);
        raw.push([attr, decodeEntities(source.slice(at + 1, end))]);
        at = end + 1;
      }

      const parentScope = stack.at(-1)?.scope ?? new Map<string, string>();
      let scope = parentScope;
      for (const [attr, value] of raw) {
        if (attr === 'xmlns' || attr.startsWith('xmlns:')) {
          if (scope === parentScope) scope = new Map(parentScope);
          scope.set(attr === 'xmlns' ? '' : attr.slice(6), value);
        }
      }
      const attributes: Record<string, string> = {};
      for (const [attr, value] of raw) {
        if (attr === 'xmlns' || attr.startsWith('xmlns:')) continue;
        const colon = attr.indexOf(':');
        if (colon !== -1) resolve(attr.slice(0, colon), scope);
        attributes[colon === -1 ? attr : attr.slice(colon + 1)] = value;
      }
      const colon = qname.indexOf(':');
      const element: XmlElement = {
        ns: resolve(colon === -1 ? '' : qname.slice(0, colon), scope),
        name: colon === -1 ? qname : qname.slice(colon + 1),
        attributes,
        children: [],
        text: '',
      };
      const parent = stack.at(-1);
      if (parent) parent.element.children.push(element);
      else if (root) fail('a second root element');
      else root = element;
      if (!selfClosing) stack.push({ element, scope, qname });
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)?.qname}> is not closed`);
  return root ?? fail('no root element');
}

/** The first child of `element` with this namespace and local name. */
export function childOf(element: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.ns === ns && c.name === name);
}

/** Every element below `element` (depth first, in document order) with this namespace and local name. */
export function findAll(element: XmlElement, ns: string, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.ns === ns && c.name === name) found.push(c);
      visit(c);
    }
  };
  visit(element);
  return found;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (ch) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[ch]};`);
}
