# One image for the API (gunicorn) and the workers (celery); nginx uses its own image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY narration ./narration
COPY service ./service
COPY workers ./workers
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# ffmpeg (with libmp3lame) and libespeak-ng come inside the imageio-ffmpeg and espeakng-loader
# wheels, so the image needs no system packages beyond the slim base.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NARRATOR_AUDIO_CACHE_DIR=/srv/audio_cache
RUN useradd --system --uid 1000 --home-dir /srv narrator \
    && mkdir -p /srv/audio_cache && chown narrator /srv/audio_cache
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER narrator
WORKDIR /srv
VOLUME ["/srv/audio_cache"]
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--access-logfile", "-", "service.wsgi:app"]
