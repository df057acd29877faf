# Turnpike: one image for every service, the simulators and the deployment jobs; the first
# argument picks the process (deploy/image/turnpike.mjs): gateway, router, connector, billing,
# analytics, `migrate <service>`, topics, simulator, seed-demo, check-gateway.
#
# One image rather than one per service: the services share almost every dependency (NestJS,
# Fastify, kafkajs, TypeORM, OpenTelemetry), so per-service images would be nearly the same bytes
# five times over, and one tag then names one consistent release of the whole platform, which the
# chart's jobs (migrations, topics) and compose's simulators run from too.

FROM node:24-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npx --no-install tsc -b tsconfig.json \
 && bash deploy/image/assemble.sh /src /app

FROM node:24-slim
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
WORKDIR /app
# Owned by root and not writable by the service's user: the root filesystem can be read-only.
COPY --from=build /app /app
# Mount points of compose's named volumes (the connector's master key, the demo key, the
# gateway's usage spool): a new volume takes the owner of its mount point.
RUN mkdir -p /keys /state /spool && chown 10001:10001 /keys /state /spool
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "--enable-source-maps", "/app/deploy/image/turnpike.mjs"]
CMD ["gateway"]
