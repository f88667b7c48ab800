# Sourced by the delivery benchmarks: starts one nginx worker on loopback that answers every
# request with 200 "ok", over HTTP and over HTTPS (a CA made for the run, and a certificate for
# 127.0.0.1 and for sink.test, the name bench_pipeline resolves to it), and stops it on exit. Sets:
#   work       a temporary folder, removed on exit
#   url        http://127.0.0.1:PORT/hook
#   tls_url    https://127.0.0.1:PORT/hook
#   ca_file    the CA that signed the HTTPS sink's certificate
#   post_lua   a wrk script that POSTs a delivery-sized signed JSON body
#   nginx_cpu  a function printing nginx's CPU seconds so far (user + system, every process)
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
tls_port=$(free_port)

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=herald bench CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -days 1 -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:sink.test') \
    -out "$work/server.pem" 2>/dev/null
ca_file=$work/ca.pem

cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    keepalive_requests 1000000;
    ssl_session_cache shared:herald:10m;
    server {
        listen 127.0.0.1:$port;
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $work/server.key;
        location / { return 200 "ok"; }
    }
}
CONF
post_lua=$work/post.lua
cat >"$post_lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"event_type":"ADD_ARTIFACT_ALIAS","event_author":"grace","entity_name":"acme","project_name":"vision","artifact_version_string":"acme/vision/resnet:production","artifact_collection_name":"resnet","alias":"production","automation_name":"deploy"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Herald-Delivery-Id"] = "bench-1"
wrk.headers["X-Herald-Attempt"] = "1"
wrk.headers["X-Wandb-Signature"] = "f4pM9X2sN5aJfS0mGv8vY8y0tZ3bq1b0q4w6e8r0t2Y="
LUA

nginx -c "$work/nginx.conf" -p "$work"
stop_nginx() {
    [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    sleep 0.5
    rm -rf "$work"
}
trap stop_nginx EXIT
for _ in $(seq 50); do [[ -f $work/nginx.pid ]] && break; sleep 0.1; done
url="http://127.0.0.1:$port/hook"
tls_url="https://127.0.0.1:$tls_port/hook"
curl -fsS -X POST -d '{}' "$url" >/dev/null
curl -fsS --cacert "$ca_file" -X POST -d '{}' "$tls_url" >/dev/null

nginx_cpu() {
    local ticks=0 pid
    local master
    master=$(cat "$work/nginx.pid")
    for pid in "$master" $(pgrep -P "$master"); do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
