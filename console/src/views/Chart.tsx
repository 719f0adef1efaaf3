import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  /** Unix seconds. */
  seconds: number[];
  successes: number[];
  failures: number[];
}

/** Successes and failures per second (uPlot: canvas, a few thousand points at no cost). */
export function Chart({ data, width }: { data: Series; width: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        width,
        height: 160,
        scales: { x: { time: true } },
        axes: [{}, { label: 'attempts/s' }],
        series: [
          {},
          { label: 'successes', stroke: '#1a7f37', fill: 'rgba(26,127,55,0.12)' },
          { label: 'failures', stroke: '#cf222e', fill: 'rgba(207,34,46,0.12)' },
        ],
      },
      [[], [], []],
      box.current,
    );
    return () => plot.current?.destroy();
  }, [width]);
  useEffect(() => {
    plot.current?.setData([data.seconds, data.successes, data.failures]);
  }, [data]);
  return <div ref={box} data-testid="chart" />;
}
