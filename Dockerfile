# syntax=docker/dockerfile:1
# The gateway as a small non-root image:
#   docker build -t aigateway .
#   docker run --rm -p 8080:8080 -e AIGATEWAY_DEV_KEY=sk-local-dev aigateway
# Multi-platform (BuildKit): docker buildx build --platform linux/amd64,linux/arm64 -t aigateway .

# The SDK runs on the build machine's platform and cross-publishes for the target one (-a), so an
# arm64 image builds without emulation.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src

# Restore from the build files alone: this layer is reused until a package or the SDK pin changes.
# PublishReadyToRun must be known at restore time so the runtime packs and crossgen are fetched.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/AiGateway/AiGateway.csproj src/AiGateway/
RUN dotnet restore src/AiGateway -a "$TARGETARCH" -p:PublishReadyToRun=true

COPY .editorconfig ./
COPY src/ src/
# ReadyToRun: precompiled code, so a new replica serves sooner after a scale-out (tiered PGO still
# recompiles the hot paths). InvariantGlobalization is on in Directory.Build.props, so no ICU is needed.
RUN dotnet publish src/AiGateway -c Release -a "$TARGETARCH" --self-contained false \
      -p:PublishReadyToRun=true -o /app --no-restore

# Ubuntu chiseled: no shell, no package manager, ASP.NET Core runtime only; runs as the non-root
# user 'app' (APP_UID=1654, the uid of every .NET 8+ image).
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS final
WORKDIR /app
COPY --from=build /app ./
# The sample config (mock 'echo' model, provider credentials as env: references); Kubernetes mounts
# its own over /app/config/gateway.json.
COPY config/ ./config/

# ASPNETCORE_HTTP_PORTS is cleared because the base image sets it and ASP.NET Core warns when both
# it and ASPNETCORE_URLS are set.
# GC: the project already selects Server GC (non-concurrent); since .NET 9 Server GC adapts its heap
# count to the load (DATAS) and the runtime sizes itself from the container's CPU and memory limits,
# so no DOTNET_GC* override is set here.
# The usage ledger's SQLite file goes to /tmp: the app user cannot write under /app. It lives as long as the
# container; mount a volume and point UsageLedger__SqlitePath at it to keep it, or set
# ConnectionStrings__Postgres (replicas need that anyway).
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    ASPNETCORE_ENVIRONMENT=Production \
    AIGATEWAY_CONFIG=/app/config/gateway.json \
    UsageLedger__SqlitePath=/tmp/aigateway-usage.db
EXPOSE 8080

# No HEALTHCHECK: the image has no shell or curl to run one, and Kubernetes ignores it in favour of
# the chart's probes on /healthz and /readyz.
USER $APP_UID
ENTRYPOINT ["/app/AiGateway"]
