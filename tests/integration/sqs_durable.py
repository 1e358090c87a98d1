# SPDX-License-Identifier: Apache-2.0
# The durability check of husk's queues (issue 13), driven by boto3 (Debian's python3-boto3, the
# query protocol): 4 producers send 10,000 messages in batches of 10 to a standard queue and a
# FIFO queue while 4 consumers receive and delete; the wrapper (sqs_durable.sh) kills the server
# with -9 twice and restarts it on the same port. Retries are ours, never botocore's: a request
# that got no answer is resent as a NEW message (new body), so "acknowledged" is exact.
# Afterwards: every acknowledged send was deleted (acknowledged) exactly once or is still in the
# queue (the final drain receives and deletes what is left), or its delete was sent when a kill
# cut the answer off (then it may be gone without an acknowledgement, which SQS allows); no message whose delete was acknowledged is ever received again; FIFO order per group
# holds among the messages received.
# usage: sqs_durable.py ENDPOINT RESULTS_DIR  (signals: writes RESULTS_DIR/phase files)
import json, os, sys, threading, time
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, ConnectionClosedError, ReadTimeoutError
try:
    from urllib3.exceptions import ProtocolError
except Exception:  # pragma: no cover
    ProtocolError = Exception

ENDPOINT, OUT = sys.argv[1], sys.argv[2]
TOTAL = int(os.environ.get("DURABLE_MESSAGES", "10000"))
PRODUCERS = CONSUMERS = 4
cfg = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=30)
TRANSIENT = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ProtocolError,
             ConnectionError, OSError)

def client():
    return boto3.session.Session().client("sqs", endpoint_url=ENDPOINT, region_name="us-east-1",
                                          config=cfg)

def wait_up():
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            client().list_queues()
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit("server did not come back")

wait_up()
c = client()
std = c.create_queue(QueueName="durable")["QueueUrl"]
fifo = c.create_queue(QueueName="durable.fifo", Attributes={"FifoQueue": "true",
                                                            "ContentBasedDeduplication": "true"})["QueueUrl"]
lock = threading.Lock()
acked = {std: set(), fifo: set()}      # bodies whose send was acknowledged
deleted = {std: [], fifo: []}          # bodies whose delete was acknowledged (in order)
delete_unknown = {std: set(), fifo: set()}  # bodies whose delete got no answer (server killed)
received_after_delete = []             # violations
fifo_seen = {}                         # group -> send_key of its last first-received message
fifo_first_seen = set()

def send_key(body):
    """A producer's send order: its attempts go up, and within one attempt the index does (a
    batch whose answer was lost is resent as a later attempt, repeating earlier indexes)."""
    _, idx, att = body.split("-")
    return (int(att[1:]), int(idx))
fifo_order_errors = []
sent_count = [0]
stop_consumers = threading.Event()

def producer(p):
    cl = client()
    n_std = TOTAL // 2 // PRODUCERS
    n_fifo = TOTAL // 2 // PRODUCERS
    for url, n in ((std, n_std), (fifo, n_fifo)):
        i = 0
        attempt = 0
        while i < n:
            k = min(10, n - i)
            attempt += 1
            entries = []
            for j in range(k):
                body = f"p{p}-{i + j}-a{attempt}"
                e = {"Id": f"e{j}", "MessageBody": body}
                if url == fifo:
                    e["MessageGroupId"] = f"g{p}"
                entries.append(e)
            try:
                r = cl.send_message_batch(QueueUrl=url, Entries=entries)
            except TRANSIENT:
                time.sleep(0.1)
                cl = client()
                continue  # unknown outcome: resend as new bodies
            ok = {e["Id"] for e in r.get("Successful", [])}
            if r.get("Failed"):
                raise SystemExit(f"batch entries failed: {r['Failed']}")
            with lock:
                for e in entries:
                    if e["Id"] in ok:
                        acked[url].add(e["MessageBody"])
                sent_count[0] += len(ok)
                # the wrapper kills the server at points of this progress
                with open(os.path.join(OUT, "progress.tmp"), "w") as f:
                    f.write(str(sent_count[0]))
                os.replace(os.path.join(OUT, "progress.tmp"), os.path.join(OUT, "progress"))
            i += k

def consumer(ci):
    cl = client()
    while True:
        for url in (std, fifo):
            try:
                r = cl.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       VisibilityTimeout=5, AttributeNames=["All"])
            except TRANSIENT:
                time.sleep(0.1)
                cl = client()
                continue
            msgs = r.get("Messages", [])
            with lock:
                for m in msgs:
                    b = m["Body"]
                    if b in deleted[url]:
                        received_after_delete.append(b)
                    if url == fifo and b not in fifo_first_seen:
                        # First receipt of each FIFO message: within a group the producer's
                        # index never goes down (a resent batch repeats indexes, never earlier).
                        fifo_first_seen.add(b)
                        g = m["Attributes"]["MessageGroupId"]
                        key = send_key(b)
                        if key < fifo_seen.get(g, (-1, -1)):
                            fifo_order_errors.append((g, fifo_seen[g], key))
                        fifo_seen[g] = key
            if not msgs:
                continue
            try:
                d = cl.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
            except TRANSIENT:
                # Unknown outcome: deleted or not; if not, they come back and are counted then.
                with lock:
                    delete_unknown[url].update(m["Body"] for m in msgs)
                time.sleep(0.1)
                cl = client()
                continue
            okd = {e["Id"] for e in d.get("Successful", [])}
            with lock:
                for i, m in enumerate(msgs):
                    if f"d{i}" in okd:
                        deleted[url].append(m["Body"])
        if stop_consumers.is_set():
            return

open(os.path.join(OUT, "started"), "w").close()
ps = [threading.Thread(target=producer, args=(p,)) for p in range(PRODUCERS)]
cs = [threading.Thread(target=consumer, args=(i,)) for i in range(CONSUMERS)]
for t in ps + cs:
    t.start()
for t in ps:
    t.join()
open(os.path.join(OUT, "produced"), "w").close()
# Let the consumers drain what they can, then stop them and drain the rest ourselves.
time.sleep(3)
stop_consumers.set()
for t in cs:
    t.join()
wait_up()
cl = client()
remaining = {std: [], fifo: []}
for url in (std, fifo):
    empty_rounds = 0
    while empty_rounds < 3:  # in-flight messages return after their 5 s visibility timeout
        r = cl.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=3,
                               VisibilityTimeout=60)
        msgs = r.get("Messages", [])
        if not msgs:
            empty_rounds += 1
            continue
        empty_rounds = 0
        for m in msgs:
            if url == fifo and m["Body"] not in fifo_first_seen:
                fifo_first_seen.add(m["Body"])
                g = "g" + m["Body"].split("-")[0][1:]
                key = send_key(m["Body"])
                if key < fifo_seen.get(g, (-1, -1)):
                    fifo_order_errors.append((g, fifo_seen[g], key))
                fifo_seen[g] = key
            if m["Body"] in deleted[url]:
                received_after_delete.append(m["Body"])
            remaining[url].append(m["Body"])
        # Deleted by the drainer: a FIFO group stays blocked while its messages are in flight.
        cl.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
result = {"sent_acked": sum(len(v) for v in acked.values()),
          "deleted_acked": sum(len(v) for v in deleted.values()),
          "remaining": sum(len(v) for v in remaining.values())}
lost, dup_deleted, unacked_present = [], [], 0
for url in (std, fifo):
    dl = deleted[url]
    seen = set()
    for b in dl:
        if b in seen:
            dup_deleted.append(b)
        seen.add(b)
    present = seen | set(remaining[url]) | delete_unknown[url]
    lost += [b for b in acked[url] if b not in present]
result["lost"] = len(lost)
result["delete_unanswered"] = sum(len(v) for v in delete_unknown.values())
result["lost_examples"] = sorted(lost)[:5]
result["deleted_twice"] = len(dup_deleted)
result["fifo_order_errors"] = len(fifo_order_errors)
result["fifo_order_examples"] = fifo_order_errors[:5]
result["received_after_delete"] = len(received_after_delete)
result["received_after_delete_examples"] = received_after_delete[:5]
json.dump(result, open(os.path.join(OUT, "result.json"), "w"))
print(json.dumps(result))
