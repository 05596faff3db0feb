import * as echarts from 'echarts';
import { type Html, trustedMarkup } from './html.js';

// Charts drawn as SVG on the server by ECharts (server-side rendering: no DOM, no script in the page).
// Each chart is disposed of at once: an undisposed instance keeps timers that hold the process open.
// Every data point carries ECharts' `ecmeta_data_index` attribute, which is how the tests count them.

const WIDTH = 560;
const HEIGHT = 260;
const PALETTE = ['#2f5bd3', '#c62828', '#1a7f37', '#9a6700'];

function drawSvg(option: echarts.EChartsCoreOption): Html {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  try {
    chart.setOption({ animation: false, color: PALETTE, ...option });
    return trustedMarkup(chart.renderToSVGString());
  } finally {
    chart.dispose();
  }
}

const GRID = { left: 56, right: 20, top: 36, bottom: 48, containLabel: false };

/** Bars over categories (weeks, bins, phases), one series. */
export function drawBarChart(labels: readonly string[], values: readonly number[], unit: string): Html {
  return drawSvg({
    grid: GRID,
    xAxis: { type: 'category', data: [...labels], axisLabel: { interval: 0, hideOverlap: true } },
    yAxis: { type: 'value', name: unit, minInterval: 1 },
    series: [{ type: 'bar', data: [...values], barMaxWidth: 36 }],
  });
}

/** Lines over categories; a value left undefined leaves a gap (a week without deployments has no rate). */
export function drawLineChart(
  labels: readonly string[],
  series: readonly { name: string; values: readonly (number | undefined)[] }[],
  unit: string,
): Html {
  return drawSvg({
    grid: GRID,
    legend: { top: 4, data: series.map((line) => line.name) },
    xAxis: { type: 'category', data: [...labels], axisLabel: { interval: 0, hideOverlap: true } },
    yAxis: { type: 'value', name: unit, min: 0 },
    series: series.map((line) => ({
      type: 'line',
      name: line.name,
      showSymbol: true,
      symbolSize: 7,
      connectNulls: false,
      data: line.values.map((value) => (value === undefined ? null : value)),
    })),
  });
}
