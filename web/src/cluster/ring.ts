/**
 * A picture of the hash ring: a donut where each member gets one arc of its primary share of the
 * 32-bit ring (the status reports shares, not token positions).
 */
import { svg } from "../dom.ts";
import type { MemberView } from "./model.ts";

const MEMBER_COLORS = ["#e6522c", "#3b7dd8", "#2ca02c", "#9467bd", "#e0a100", "#17becf", "#d62728", "#8c564b", "#e377c2", "#7f7f7f"];

export function memberColor(i: number): string {
  return MEMBER_COLORS[i % MEMBER_COLORS.length]!;
}

interface Arc {
  from: number; // fraction 0..1
  to: number;
  member: number;
}

function arcsFromShares(members: MemberView[]): Arc[] {
  const arcs: Arc[] = [];
  let at = 0;
  members.forEach((m, i) => {
    const share = m.ringShare;
    if (share <= 0) return;
    arcs.push({ from: at, to: at + share, member: i });
    at += share;
  });
  return arcs;
}

function point(cx: number, cy: number, r: number, fraction: number): [number, number] {
  const angle = fraction * 2 * Math.PI - Math.PI / 2;
  return [cx + r * Math.cos(angle), cy + r * Math.sin(angle)];
}

function arcPath(cx: number, cy: number, r0: number, r1: number, from: number, to: number): string {
  const span = to - from;
  if (span >= 0.9999) {
    // A full circle cannot be one SVG arc; draw it as two halves.
    return arcPath(cx, cy, r0, r1, from, from + 0.5) + " " + arcPath(cx, cy, r0, r1, from + 0.5, from + 1);
  }
  const large = span > 0.5 ? 1 : 0;
  const [x0, y0] = point(cx, cy, r1, from);
  const [x1, y1] = point(cx, cy, r1, to);
  const [x2, y2] = point(cx, cy, r0, to);
  const [x3, y3] = point(cx, cy, r0, from);
  const f = (n: number) => n.toFixed(2);
  return `M${f(x0)} ${f(y0)}A${r1} ${r1} 0 ${large} 1 ${f(x1)} ${f(y1)}L${f(x2)} ${f(y2)}A${r0} ${r0} 0 ${large} 0 ${f(x3)} ${f(y3)}Z`;
}

export function ringPicture(members: MemberView[], replicationFactor: number | null): SVGElement {
  const size = 260;
  const c = size / 2;
  const arcs = arcsFromShares(members);
  const paths = arcs.map((a) => {
    const m = members[a.member]!;
    const dim = m.state !== "active" || m.health !== "alive";
    return svg(
      "path",
      {
        d: arcPath(c, c, 78, 118, a.from, a.to),
        fill: memberColor(a.member),
        "fill-opacity": dim ? 0.35 : 0.9,
        stroke: "var(--bg)",
        "stroke-width": 1.5,
        "data-member": m.name,
      },
      svg("title", {}, `${m.name} (${m.state})`),
    );
  });
  const label = members.length === 1 ? "1 member" : `${members.length} members`;
  return svg(
    "svg",
    { class: "ring", viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: "img", "aria-label": "hash ring ownership" },
    svg("circle", { cx: c, cy: c, r: 98, fill: "none", stroke: "var(--border)", "stroke-width": 40 }),
    ...paths,
    svg("text", { x: c, y: c - 4, "text-anchor": "middle", class: "ring-center" }, label),
    svg("text", { x: c, y: c + 16, "text-anchor": "middle", class: "ring-sub" }, replicationFactor !== null ? `replication ${replicationFactor}` : ""),
  );
}
