import { DOMParser, type Element, type Node } from '@xmldom/xmldom';

/**
 * The little XML the WS-Management client needs, read with @xmldom/xmldom: elements are matched by namespace
 * URI and local name, whatever prefixes the server chose, and escaping for writing them. No DTDs: a document
 * that declares one is refused, so no entity expansion can be smuggled in.
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

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

/** The first prefix used in a tag or attribute that no `xmlns:` declares; only for the error message. */
function undeclaredPrefix(source: string): string | null {
  const declared = new Set(['xml', 'xmlns', ...[...source.matchAll(/xmlns:([A-Za-z_][\w.-]*)\s*=/g)].map((m) => m[1]!)]);
  for (const m of source.matchAll(/[<\s]\/?([A-Za-z_][\w.-]*):[A-Za-z_]/g)) if (!declared.has(m[1]!)) return m[1]!;
  return null;
}

function toElement(node: Element): XmlElement {
  const attributes: Record<string, string> = {};
  for (let i = 0; i < node.attributes.length; i++) {
    const attr = node.attributes.item(i)!;
    if (attr.namespaceURI === XMLNS_NS || attr.name === 'xmlns') continue;
    attributes[attr.localName ?? attr.name] = attr.value;
  }
  const children: XmlElement[] = [];
  let text = '';
  for (let child: Node | null = node.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === ELEMENT_NODE) children.push(toElement(child as Element));
    else if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) text += child.nodeValue ?? '';
  }
  return { ns: node.namespaceURI ?? '', name: node.localName ?? node.nodeName, attributes, children, text };
}

export function parseXml(source: string): XmlElement {
  const refuseDoctype = () => new XmlError('document type declarations are not accepted');
  const parser = new DOMParser({
    onError: (level, message) => {
      if (level === 'warning') return;
      throw new XmlError(message);
    },
  });
  let document;
  try {
    document = parser.parseFromString(source, 'text/xml');
  } catch (err) {
    // A DTD's entities are never declared to the parser, so it fails on their use: say why the document is refused.
    if (source.includes('<!DOCTYPE')) throw refuseDoctype();
    const message = err instanceof Error ? err.message : String(err);
    const prefix = /NamespaceError/.test(message) ? undeclaredPrefix(source) : null;
    throw new XmlError(prefix !== null ? `undeclared namespace prefix ${prefix}` : message.replace(/^Reporting \w+ "(.*)" caused .*$/s, '$1'));
  }
  if (document.doctype !== null) throw refuseDoctype();
  const root = document.documentElement;
  if (root === null) throw new XmlError('no root element');
  return toElement(root);
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
