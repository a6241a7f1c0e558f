/**
 * The page of `facepoints serve`: pick, drop or film a picture, see its
 * faces' keypoints, the time per face, and download the points. Face boxes
 * come from the box field (or a drag on the picture); a face detector can
 * plug in through `loadKeypointModel`'s `detector` option, after which an
 * empty box field means "the detected faces" instead of "the whole picture".
 *
 * `window.facepointsPage` exposes the page's state (the last result, a
 * promise of readiness) and the browser API, for the browser tests and for
 * the console.
 */
import * as api from '../index.js';
import type { CropBox, FacePrediction, KeypointModel } from '../index.js';

interface PageResult {
  image: string;
  faces: { box: CropBox; points: number[]; ms: number }[];
  msPerFace: number;
}

interface PageState {
  ready: Promise<void>;
  result: PageResult | null;
  runs: number;
  error: string | null;
  api: typeof api;
  model: KeypointModel | null;
  /** Runs the model on a picture given as bytes (what dropping a file does). */
  showBytes(bytes: Uint8Array, name: string): Promise<PageResult>;
}

declare global {
  interface Window {
    facepointsPage: PageState;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('view');
const context = canvas.getContext('2d')!;
const status = $<HTMLParagraphElement>('status');
const boxInput = $<HTMLInputElement>('box');
const params = new URLSearchParams(location.search);

let model: KeypointModel | null = null;
let picture: ImageBitmap | null = null;
let pictureName = '';
let faces: FacePrediction[] = [];
let video: HTMLVideoElement | null = null;
let running: Promise<void> = Promise.resolve();

function parseBoxes(text: string): CropBox[] | undefined {
  const parts = text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return undefined;
  return parts.map((part) => {
    const values = part.split(',').map(Number);
    if (values.length !== 3 || !values.every(Number.isFinite) || !(values[2] > 0)) {
      throw new Error(`face box "${part}": expected x,y,size in pixels`);
    }
    return { x: values[0], y: values[1], size: values[2] };
  });
}

function setStatus(text: string): void {
  status.textContent = text;
}

function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  window.facepointsPage.error = message;
  setStatus(`Error: ${message}`);
  document.body.dataset.state = 'error';
}

function draw(source: CanvasImageSource, width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  canvas.hidden = false;
  $('drop-hint').hidden = true;
  context.drawImage(source, 0, 0, width, height);
  const radius = Math.max(2.5, Math.min(width, height) / 100);
  for (const face of faces) api.drawKeypoints(context, face.points, { box: face.box, radius });
}

function report(kind: string): PageResult {
  const msPerFace = faces.length ? faces.reduce((s, f) => s + f.ms, 0) / faces.length : 0;
  const result: PageResult = {
    image: pictureName,
    faces: faces.map((f) => ({ box: f.box, points: Array.from(f.points), ms: f.ms })),
    msPerFace,
  };
  window.facepointsPage.result = result;
  window.facepointsPage.runs++;
  const plural = faces.length === 1 ? 'face' : 'faces';
  setStatus(`${kind}: ${faces.length} ${plural}, ${msPerFace.toFixed(1)} ms per face (${model!.engineName})`);
  for (const id of ['download-json', 'download-csv']) $<HTMLButtonElement>(id).disabled = faces.length === 0;
  return result;
}

async function predictPicture(): Promise<PageResult> {
  if (!model || !picture) throw new Error('no model or no picture yet');
  document.body.dataset.state = 'busy';
  faces = await model.predictFaces(picture, parseBoxes(boxInput.value));
  draw(picture, picture.width, picture.height);
  const result = report(pictureName);
  document.body.dataset.state = 'done';
  return result;
}

async function showBytes(bytes: Uint8Array, name: string): Promise<PageResult> {
  stopWebcam();
  const blob = new Blob([bytes.slice()]);
  // No colour management or premultiplication: the page must see the file's own pixel values, as Node does.
  picture = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  pictureName = name;
  return predictPicture();
}

async function showFile(file: File): Promise<void> {
  await showBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}

function queue(action: () => Promise<unknown>): void {
  running = running.then(action).then(
    () => undefined,
    (error: unknown) => showError(error),
  );
}

function stopWebcam(): void {
  if (!video) return;
  for (const track of (video.srcObject as MediaStream).getTracks()) track.stop();
  video = null;
  $<HTMLButtonElement>('webcam').textContent = 'Use the webcam';
}

async function startWebcam(): Promise<void> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await video.play();
  picture = null;
  pictureName = 'webcam';
  $<HTMLButtonElement>('webcam').textContent = 'Stop the webcam';
  const current = video;
  const loop = async () => {
    if (video !== current || !model) return;
    try {
      faces = await model.predictFaces(current, parseBoxes(boxInput.value));
      draw(current, current.videoWidth, current.videoHeight);
      report('webcam');
    } catch (error) {
      showError(error);
      stopWebcam();
      return;
    }
    requestAnimationFrame(() => void loop());
  };
  await loop();
}

function download(text: string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function baseName(): string {
  return (pictureName || 'faces').replace(/\.[^.]*$/, '');
}

/** Dragging a square on the picture sets the face box (in the picture's pixels). */
function setUpBoxDrag(): void {
  let start: { x: number; y: number } | null = null;
  const toPicture = (event: MouseEvent) => {
    const rect = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * canvas.width,
      y: ((event.clientY - rect.top) / rect.height) * canvas.height,
    };
  };
  canvas.addEventListener('mousedown', (event) => {
    start = toPicture(event);
  });
  canvas.addEventListener('mouseup', (event) => {
    if (!start) return;
    const end = toPicture(event);
    const size = Math.max(Math.abs(end.x - start.x), Math.abs(end.y - start.y));
    const from = start;
    start = null;
    if (size < 8) return;
    const x = end.x < from.x ? from.x - size : from.x;
    const y = end.y < from.y ? from.y - size : from.y;
    boxInput.value = `${Math.round(x)},${Math.round(y)},${Math.round(size)}`;
    if (picture) queue(predictPicture);
  });
}

function setUp(): void {
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (file) queue(() => showFile(file));
  });
  $<HTMLInputElement>('file').addEventListener('change', (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) queue(() => showFile(file));
  });
  $('webcam').addEventListener('click', () => {
    if (video) stopWebcam();
    else queue(startWebcam);
  });
  boxInput.addEventListener('change', () => {
    if (picture) queue(predictPicture);
  });
  $('download-json').addEventListener('click', () =>
    download(api.pointsToJson(faces, pictureName), `${baseName()}-keypoints.json`, 'application/json'),
  );
  $('download-csv').addEventListener('click', () =>
    download(api.pointsToCsv(faces, pictureName), `${baseName()}-keypoints.csv`, 'text/csv'),
  );
  setUpBoxDrag();
}

async function start(): Promise<void> {
  const backend = params.get('backend') === 'webgl' ? 'webgl' : 'wasm';
  model = await api.loadKeypointModel(params.get('model') ?? 'model.fpm', {
    backend,
    wasmPaths: new URL('./', location.href).href,
  });
  window.facepointsPage.model = model;
  $('model-info').textContent =
    `${model.schema.name}: ${model.keypointNames.length} keypoints, ${model.engineName}`;
  document.body.dataset.state = 'ready';
  setStatus('Ready.');
}

window.facepointsPage = {
  ready: Promise.resolve(),
  result: null,
  runs: 0,
  error: null,
  api,
  model: null,
  showBytes: (bytes, name) => {
    const result = running.then(() => showBytes(bytes, name));
    running = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  },
};
setUp();
window.facepointsPage.ready = start();
window.facepointsPage.ready.catch(showError);
