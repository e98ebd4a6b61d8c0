FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY loa loa
COPY protocol protocol
COPY controller controller
COPY edge_agent edge_agent
COPY simulator simulator
COPY bulletins bulletins
RUN pip install --no-cache-dir ".[controller]"
ENV LOA_DATA_DIR=/data
# The data directory is private (0700); a named volume takes this mode from the image.
RUN mkdir -m 0700 /data
VOLUME /data
EXPOSE 8000
CMD ["loa", "controller", "--host", "0.0.0.0", "--port", "8000"]
