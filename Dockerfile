# The project installed on the official Airflow image, at the locked versions.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --chown=airflow:root . /opt/creator-metrics
# compose mounts the shared `warehouse` volume on /data: a new named volume takes the owner of
# the folder it is mounted on, so the airflow user can write the warehouse, landing and staging
RUN mkdir -p /data && chown airflow:root /data
USER airflow
# the lock is exported so pip installs exactly what CI tested; airflow itself (and the celery,
# postgres and fab providers compose uses) comes from the image; `lake` brings the DuckLake wheels
RUN pip install --no-cache-dir uv==0.13.8 \
 && cd /opt/creator-metrics \
 && uv export --frozen --no-dev --no-hashes --no-emit-project --extra airflow --extra lake \
      --no-emit-package apache-airflow > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && pip install --no-cache-dir --no-deps /opt/creator-metrics
