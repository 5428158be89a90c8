// Regenerates golden.json from cases.js with the real engine:
//   npm install simple-json-match@1.3.0   (in some scratch directory)
//   NODE_PATH=<scratch>/node_modules node gen_golden.js > golden.json
const match = require("simple-json-match").default;
const { upstream, upstreamNot, readme, probes, deviations, rejected } = require("./cases.js");

const out = [];
const add = (group, i, input, schema, extra) => {
  const js = match(input, schema);
  out.push({ name: `${group}/${i}`, input, schema, js, ...extra });
};
upstream.forEach(([input, schema, want], i) => add("upstream", i, input, schema, { want }));
upstreamNot.forEach(([input, schema, want], i) => add("upstreamNot", i, input, schema, { want }));
readme.forEach(([input, schema], i) => add("readme", i, input, schema, { want: true }));
probes.forEach(([input, schema], i) => add("probe", i, input, schema, {}));
deviations.forEach(([input, schema, sluice, why], i) => add("deviation", i, input, schema, { sluice, why }));
rejected.forEach(([schema, why], i) => out.push({ name: `rejected/${i}`, schema, reject: why }));

for (const c of out) {
  if (c.sluice !== undefined && c.sluice === c.js) {
    console.error(`${c.name}: listed as a deviation but simple-json-match agrees`);
  }
  if (c.want !== undefined && c.want !== c.js) {
    console.error(`${c.name}: simple-json-match says ${c.js}, documented ${c.want}`);
  }
}
console.log("[\n" + out.map((c) => "  " + JSON.stringify(c)).join(",\n") + "\n]");
