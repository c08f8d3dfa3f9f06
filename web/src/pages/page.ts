/** What the router needs from a page: its element, and hooks for when it shows and goes away. */
export interface Page {
  title: string;
  root: HTMLElement;
  /** Called once the root is in the document (layout-dependent work like charts happens here). */
  mounted?(): void;
  destroy?(): void;
}
