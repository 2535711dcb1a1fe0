# The RunbookEngine host. `docker compose up` builds it for both engine nodes; alone: `docker build -t runbookengine .`
# Configuration comes from the environment (RunbookEngine__Storage=postgres, ...; see docs/operations.md).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# The project files first, so editing code does not download the packages again.
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY src/RunbookEngine.Sdk/RunbookEngine.Sdk.csproj src/RunbookEngine.Sdk/
COPY src/RunbookEngine.Scripting/RunbookEngine.Scripting.csproj src/RunbookEngine.Scripting/
COPY src/RunbookEngine/RunbookEngine.csproj src/RunbookEngine/
COPY src/RunbookEngine.Dashboard/RunbookEngine.Dashboard.csproj src/RunbookEngine.Dashboard/
COPY src/RunbookEngine.Host/RunbookEngine.Host.csproj src/RunbookEngine.Host/
RUN dotnet restore src/RunbookEngine.Host/RunbookEngine.Host.csproj
COPY src/ src/
RUN dotnet publish src/RunbookEngine.Host/RunbookEngine.Host.csproj -c Release --no-restore -o /out

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# The catalog runs git (a Git remote, or the commit of a runbook folder that is a work tree); ssh for ssh:// remotes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out /app
# runbooks/ and data/ resolve from the working directory. data/ (compile cache, Git clone, SQLite when not on
# PostgreSQL) must be writable by the app user; runbooks/ is meant to be mounted read-only.
WORKDIR /srv/runbookengine
RUN mkdir -p runbooks data && chown "$APP_UID" data
# appsettings.json binds 127.0.0.1:5080, which nothing outside the container could reach. An unprefixed Urls overrides
# it (ASPNETCORE_URLS would not: appsettings.json is read after it); the base image's HTTP_PORTS would only add a warning.
ENV Urls=http://0.0.0.0:8080 \
    ASPNETCORE_HTTP_PORTS= \
    DOTNET_NOLOGO=1
EXPOSE 8080
# The non-root user the .NET images define (uid 1654).
USER $APP_UID
ENTRYPOINT ["dotnet", "/app/RunbookEngine.Host.dll"]
