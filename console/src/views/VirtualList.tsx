import { type ReactNode, useState } from 'react';

/**
 * Renders only the rows in view (plus a few): a list of 10,000 attempts costs the DOM about 40
 * rows. Rows have one fixed height, so the scroll position gives the first row directly.
 */
export function VirtualList(props: {
  count: number;
  rowHeight: number;
  height: number;
  row: (index: number) => ReactNode;
  testId?: string;
}) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / props.rowHeight) - 5);
  const last = Math.min(props.count, Math.ceil((top + props.height) / props.rowHeight) + 5);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={i} className="vrow" style={{ top: i * props.rowHeight, height: props.rowHeight }}>
        {props.row(i)}
      </div>,
    );
  }
  return (
    <div
      className="vlist"
      data-testid={props.testId}
      style={{ height: props.height }}
      onScroll={(e) => setTop(e.currentTarget.scrollTop)}
    >
      <div style={{ height: props.count * props.rowHeight, position: 'relative' }}>{rows}</div>
    </div>
  );
}
