# Asterisk 20 LTS built from source on Ubuntu 24.04, for the call-center application (ARI + PJSIP only).
# No SSH server, no root password: it runs as the unprivileged `asterisk` user and is managed from the host with
# `docker compose exec asterisk asterisk -rx "<command>"`.
# Build context: the repository root (docker compose does this; see docker/compose.yaml).

ARG UBUNTU=ubuntu:24.04

FROM ${UBUNTU} AS build
ARG ASTERISK_VERSION=20.20.1
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential ca-certificates wget bzip2 patch pkg-config python3 \
      libedit-dev libjansson-dev libxml2-dev uuid-dev libsqlite3-dev libssl-dev libsrtp2-dev \
      libcurl4-openssl-dev liburiparser-dev libxslt1-dev libspeexdsp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src
# The release tarball and its published checksum, from the project's own download server.
RUN wget -q https://downloads.asterisk.org/pub/telephony/asterisk/releases/asterisk-${ASTERISK_VERSION}.tar.gz \
 && wget -q https://downloads.asterisk.org/pub/telephony/asterisk/releases/asterisk-${ASTERISK_VERSION}.sha256 \
 && sha256sum -c asterisk-${ASTERISK_VERSION}.sha256 \
 && tar xzf asterisk-${ASTERISK_VERSION}.tar.gz
WORKDIR /usr/src/asterisk-${ASTERISK_VERSION}
RUN ./configure --with-pjproject-bundled --without-x11 --without-gtk2 \
      --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
 && make menuselect.makeopts \
 # chan_sip is deprecated and unused (PJSIP only); English core sounds and music on hold in GSM.
 && menuselect/menuselect --disable chan_sip --disable BUILD_NATIVE \
      --enable CORE-SOUNDS-EN-GSM --enable MOH-OPSOUND-GSM menuselect.makeopts \
 && make -j"$(nproc)" \
 && make install DESTDIR=/staging \
 && rm -rf /staging/usr/include

FROM ${UBUNTU}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libedit2 libjansson4 libxml2 libuuid1 libsqlite3-0 libssl3t64 libsrtp2-1 \
      libcurl4t64 liburiparser1 libxslt1.1 libspeexdsp1 \
 && rm -rf /var/lib/apt/lists/* \
 # Group 10001 is the application's: the rendered pjsip.conf and ari.conf are mode 640, owned by it.
 && groupadd --system --gid 10001 pbx \
 && useradd --system --home-dir /var/lib/asterisk-db --shell /usr/sbin/nologin --groups pbx asterisk
COPY --from=build /staging/ /
COPY asterisk/etc/ /etc/asterisk/
# libasteriskpj and libasteriskssl land in /usr/lib.
RUN ldconfig \
 && mkdir -p /etc/asterisk/generated /var/run/asterisk /var/log/asterisk /var/spool/asterisk /var/lib/asterisk-db \
 && chown -R asterisk:asterisk /var/run/asterisk /var/log/asterisk /var/spool/asterisk /var/lib/asterisk-db \
 && chmod -R go-w /etc/asterisk
USER asterisk
# SIP, RTP (rtp.conf), ARI (keep 8088 on the private network only: it controls every call).
EXPOSE 5060/udp 20000-20199/udp 8088/tcp
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD asterisk -rx "core show uptime" | grep -q "System uptime" || exit 1
# -f: stay in the foreground as the container's main process (already the unprivileged user above).
CMD ["asterisk", "-f", "-vvv"]
