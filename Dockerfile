# Shoal: build the single binary with Bun (from npm), ship only that binary.
#   docker build -t shoal .
#   docker run -p 9090:9090 -p 7946:7946 -v shoal-data:/data shoal [--config.file=/etc/shoal/prometheus.yml ...]
# Members on other hosts find each other through DNS (mDNS does not leave a Docker network):
#   docker run ... shoal --cluster.join=dns+shoal.example.internal:7946

# --- build stage: node + npm ci (brings Bun through the `bun` npm package) + npm run build ------
FROM node:20-bookworm AS build
WORKDIR /src
# .npmrc lets npm ci install the other platforms' Bun runtimes (dev dependencies of the release build).
COPY package.json package-lock.json .npmrc ./
# The `bun` package's postinstall links the Bun runtime: scripts must run here.
RUN npm ci --no-audit --no-fund
# The rest of the sources (.dockerignore keeps tests, benches and local data out); web/ is
# embedded into the binary when it holds an index.html.
COPY . .
# The build context has no .git: pass the revision in (docker build --build-arg SHOAL_REVISION=$(git rev-parse HEAD)).
ARG SHOAL_REVISION
ARG SHOAL_BRANCH
RUN npm run build && ./dist/shoal --version

# --- runtime stage: a small glibc image with the binary alone ---------------------------------
FROM debian:bookworm-slim
COPY --from=build /src/dist/shoal /usr/local/bin/shoal
COPY --from=build /src/deploy/prometheus.yml /etc/shoal/prometheus.yml
# Run as nobody, like Prometheus's image; the data volume must be writable by it.
RUN mkdir -p /data && chown 65534:65534 /data
USER 65534:65534
WORKDIR /data
# HTTP (UI, API, remote write) and the cluster transport (--cluster.listen-address).
EXPOSE 9090 7946
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/shoal", "--storage.tsdb.path=/data"]
