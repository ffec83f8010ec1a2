// fuse.ts on small ONNX graphs built here, run by onnxruntime before and after the rewrite: the
// rewrites must fire where the pattern is and give the same outputs; elsewhere they must not fire.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { ModelRewriteError, encodeNode, encodeTensor, fuseModel, type FuseReport, type GraphNode } from './fuse.ts';
import { bytesField, floatField, textField, varintField } from './protobuf.ts';

const CHANNELS = 4;
const SIZE = 6;

function attr(name: string, body: Uint8Array[]): [string, Uint8Array] {
  return [name, Buffer.concat([textField(1, name), ...body])];
}
const ints = (name: string, values: number[]): [string, Uint8Array] => attr(name, [...values.map((v) => varintField(8, v)), varintField(20, 7)]);
const float = (name: string, value: number): [string, Uint8Array] => attr(name, [floatField(2, value), varintField(20, 1)]);
const int = (name: string, value: number): [string, Uint8Array] => attr(name, [varintField(3, value), varintField(20, 2)]);

function op(type: string, inputs: string[], output: string, attributes: [string, Uint8Array][] = []): GraphNode {
  return { op: type, name: output, inputs, outputs: [output], attributes: new Map(attributes), rest: [] };
}

function constant(name: string, dims: number[], values: number[]): GraphNode {
  const tensor = encodeTensor({ dims, values: Float32Array.from(values) });
  return op('Constant', [], name, [attr('value', [bytesField(5, tensor), varintField(20, 4)])]);
}

/** A conv of CHANNELS x CHANNELS with a k x k kernel and the given padding, weights varied so the sums differ per channel. */
function conv(input: string, output: string, kernel: number, pad: number): GraphNode[] {
  const weights = Array.from({ length: CHANNELS * CHANNELS * kernel * kernel }, (_, i) => Math.sin(i + 1) * 0.5);
  const bias = Array.from({ length: CHANNELS }, (_, i) => 0.1 * (i - 1));
  return [
    constant(`${output}.w`, [CHANNELS, CHANNELS, kernel, kernel], weights),
    constant(`${output}.b`, [CHANNELS], bias),
    op('Conv', [input, `${output}.w`, `${output}.b`], output, [ints('kernel_shape', [kernel, kernel]), ints('pads', [pad, pad, pad, pad]), int('group', 1)]),
  ];
}

function valueInfo(name: string): Uint8Array {
  const dims = [1, CHANNELS, SIZE, SIZE].map((d) => bytesField(1, varintField(1, d)));
  const tensorType = Buffer.concat([varintField(1, 1), bytesField(2, Buffer.concat(dims))]);
  return Buffer.concat([textField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

function model(nodes: GraphNode[], opset: number): Uint8Array {
  const graph = Buffer.concat([
    ...nodes.map((n) => bytesField(1, encodeNode(n))),
    textField(2, 'test'),
    bytesField(11, valueInfo('x')),
    bytesField(12, valueInfo('y')),
  ]);
  return Buffer.concat([varintField(1, 8), bytesField(8, Buffer.concat([textField(1, ''), varintField(2, opset)])), bytesField(7, graph)]);
}

/** Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6), the way paddle2onnx writes hard-swish at `opset`. */
function hardSwish(x: string, output: string, opset: number): GraphNode[] {
  const bounds = opset >= 11 ? [constant(`${output}.min`, [], [0]), constant(`${output}.max`, [], [6])] : [];
  const clipInputs = opset >= 11 ? [`${output}.add`, `${output}.min`, `${output}.max`] : [`${output}.add`];
  const clipAttributes = opset >= 11 ? [] : [float('min', 0), float('max', 6)];
  return [
    constant(`${output}.three`, [1], [3]),
    constant(`${output}.six`, [1], [6]),
    ...bounds,
    op('Add', [x, `${output}.three`], `${output}.add`),
    op('Clip', clipInputs, `${output}.clip`, clipAttributes),
    op('Mul', [x, `${output}.clip`], `${output}.mul`),
    op('Div', [`${output}.mul`, `${output}.six`], output),
  ];
}

/** PPLCNetV3's block: conv, scale and bias written constant-first, hard-swish, scale and bias again, then a conv. */
function block(opset: number, nextKernel: number, nextPad: number): GraphNode[] {
  return [
    ...conv('x', 'c1', 3, 1),
    constant('s1', [1], [1.3]),
    constant('b1', [1], [-0.2]),
    op('Mul', ['s1', 'c1'], 'm1'),
    op('Add', ['m1', 'b1'], 'a1'),
    ...hardSwish('a1', 'hs', opset),
    constant('s2', [1], [0.7]),
    constant('b2', [1], [0.05]),
    op('Mul', ['s2', 'hs'], 'm2'),
    op('Add', ['m2', 'b2'], 'a2'),
    ...conv('a2', 'y', nextKernel, nextPad),
  ];
}

async function run(bytes: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', input, [1, CHANNELS, SIZE, SIZE]) });
    return out.y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const input = Float32Array.from({ length: CHANNELS * SIZE * SIZE }, (_, i) => Math.cos(i * 0.7) * 4);

void describe('paddle graph rewrites', () => {
  const cases: { name: string; nodes: GraphNode[]; report: Partial<FuseReport> }[] = [
    {
      name: 'an opset 9 block folds its scales and biases into the convs and its hard-swish into HardSigmoid',
      nodes: block(9, 1, 0),
      report: { hardSwish: 1, scaledHardSwish: 1, foldedIntoConv: 3, foldedBeforeConv: 1, addsAsConvs: 0 },
    },
    {
      name: 'an opset 11 hard-swish with its bounds as inputs is found too',
      nodes: block(11, 1, 0),
      report: { hardSwish: 1, scaledHardSwish: 1, foldedIntoConv: 3, foldedBeforeConv: 1, addsAsConvs: 0 },
    },
    {
      name: 'a bias before a padded conv becomes a 1x1 depthwise conv, because folding it would change the border',
      nodes: block(9, 3, 1),
      report: { hardSwish: 1, scaledHardSwish: 1, foldedIntoConv: 3, foldedBeforeConv: 0, addsAsConvs: 1 },
    },
    {
      name: 'a graph without the patterns is left as it is',
      nodes: [...conv('x', 'c1', 3, 1), op('Relu', ['c1'], 'y')],
      report: { hardSwish: 0, scaledHardSwish: 0, foldedIntoConv: 0, foldedBeforeConv: 0, addsAsConvs: 0, removedConstants: 0 },
    },
  ];
  for (const c of cases) {
    void it(c.name, async () => {
      const original = model(c.nodes, c.nodes.some((n) => n.op === 'Clip' && n.inputs.length === 3) ? 11 : 9);
      const { model: fused, report } = fuseModel(original);
      assert.deepEqual(Object.fromEntries(Object.keys(c.report).map((k) => [k, report[k as keyof FuseReport]])), c.report);
      const [before, after] = await Promise.all([run(original, input), run(fused, input)]);
      const worst = before.reduce((max, v, i) => Math.max(max, Math.abs(v - after[i]!)), 0);
      assert.ok(worst < 1e-4, `largest difference ${worst}`);
    });
  }

  const refused = [
    { name: 'bytes that are not protobuf are refused', bytes: Buffer.from([0x0f, 0xff, 0xff]) },
    { name: 'a protobuf message without a graph is refused', bytes: varintField(1, 8) },
  ];
  for (const c of refused) {
    void it(c.name, () => assert.throws(() => fuseModel(c.bytes), ModelRewriteError));
  }
});
