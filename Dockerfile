# The project installed on the official Airflow image, at the locked versions.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --chown=airflow:root . /opt/creator-metrics
USER airflow
# the lock is exported so pip installs exactly what CI tested; airflow itself comes from the image
RUN pip install --no-cache-dir uv==0.13.8 \
 && cd /opt/creator-metrics \
 && uv export --frozen --no-dev --no-hashes --no-emit-project --extra airflow \
      --no-emit-package apache-airflow > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && pip install --no-cache-dir --no-deps /opt/creator-metrics
