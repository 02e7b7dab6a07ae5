# One image for the API, the Celery worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Pango and a font for WeasyPrint, which renders the contracts' PDFs.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml package.json ./
COPY core ./core
COPY privacy ./privacy
COPY contracts ./contracts
COPY marketplace ./marketplace
COPY api ./api
COPY web ./web
COPY migrations ./migrations
COPY alembic.ini ./
# HTMX and Swagger UI first, so the installed package ships them with the other static files.
RUN npm install --no-audit --no-fund --omit=dev \
    && mkdir -p web/static/vendor api/static/swagger \
    && cp node_modules/htmx.org/dist/htmx.min.js web/static/vendor/ \
    && cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
        node_modules/swagger-ui-dist/favicon-32x32.png api/static/swagger/ \
    && pip install --no-cache-dir .
# The contracts' CA directory, owned by the app's user before its volume is first mounted.
RUN useradd --create-home symbiose \
    && install -d -m 700 -o symbiose /var/lib/symbiose/ca
USER symbiose
EXPOSE 8000
CMD ["symbiose", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
