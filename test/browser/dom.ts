/**
 * The few DOM types that the tests' page functions use. The tests compile without the DOM
 * library (it would change Node's globals for every other file), so a page function takes
 * the document as `(globalThis as unknown as PageGlobals).document`.
 */

/** A rectangle on the page, in CSS pixels. */
export interface DomRect {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}

/** An element. */
export interface DomElement {
  readonly textContent: string | null;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): DomRect;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement> & { readonly length: number };
}

/** What a page function reaches through `globalThis`. */
export interface PageGlobals {
  document: DomElement & { body: DomElement & { style: { display: string } } };
  addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; blockedURI: string; sourceFile: string; lineNumber: number }) => void): void;
  swbViolation(text: string): void;
}
