# mtst serving image: CPU-only PyTorch, the mtst package, and `mtst serve` on port 8000.
# Mount a saved model folder at /model:  docker run -p 8000:8000 -v $PWD/models/default:/model:ro mtst
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    MPLCONFIGDIR=/tmp/matplotlib

# torch first, from the CPU index: PyPI's default wheel would pull in gigabytes of CUDA libraries.
# The package install below then finds torch already satisfied.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Only what the package needs travels (see .dockerignore); a source change does not redo the torch layer.
WORKDIR /opt/mtst
COPY . .
RUN pip install . \
    && rm -rf /opt/mtst \
    && useradd --create-home --uid 10001 mtst

USER mtst
WORKDIR /home/mtst
EXPOSE 8000

# /health is 200 only once the model is loaded; start-period covers the load.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]

# Extra flags (--api-key, --batch-wait-ms, --backend onnx, ...) go after the image name and replace CMD,
# so repeat --model and --host with them. MTST_API_KEY in the environment sets the key too.
ENTRYPOINT ["mtst", "serve"]
CMD ["--model", "/model", "--host", "0.0.0.0", "--port", "8000"]
