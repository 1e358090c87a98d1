#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SQS semantics through Debian's boto3 1.26 (query protocol, XML answers), run by sqs_cli.sh
# against `husk serve`: visibility expiry and redelivery, dead-lettering, FIFO order with 4
# concurrent consumers and in-flight blocking, deduplication, long polling, delay, purge, the
# error codes of the query protocol, MD5s (checked here: botocore does not check them), unicode.
# Usage: sqs_boto3.py ENDPOINT. Prints one line per check: "ok|DESC" or "not ok|DESC|DIAG".
import hashlib
import struct
import sys
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

END = sys.argv[1]
sqs = boto3.client("sqs", endpoint_url=END, region_name="us-east-1",
                   config=Config(retries={"max_attempts": 1}, read_timeout=30))


def report(cond, desc, diag=""):
    line = ("ok|%s" % desc) if cond else ("not ok|%s|%s" % (desc, str(diag).replace("\n", " ")))
    print(line, flush=True)


def code_of(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def md5_attrs(attrs):
    h = hashlib.md5()
    for name in sorted(attrs):
        v = attrs[name]
        for s in (name.encode(), v["DataType"].encode()):
            h.update(struct.pack(">I", len(s)) + s)
        if "BinaryValue" in v:
            h.update(b"\x02" + struct.pack(">I", len(v["BinaryValue"])) + v["BinaryValue"])
        else:
            s = v["StringValue"].encode()
            h.update(b"\x01" + struct.pack(">I", len(s)) + s)
    return h.hexdigest()


def url(name, **attrs):
    return sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]


def arn(u):
    return sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


# ---- MD5s and unicode ----
u = url("b3-md5")
body = "h\u00e9llo w\u00f6rld \U0001F389 <&> \r\n\ttab \u4e2d\u6587"
attrs = {"s": {"DataType": "String", "StringValue": "v\u00e9 \U0001F389"},
         "n": {"DataType": "Number", "StringValue": "-12.5"},
         "b": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
         "c": {"DataType": "String.custom", "StringValue": "x"}}
r = sqs.send_message(QueueUrl=u, MessageBody=body, MessageAttributes=attrs)
report(r["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest(),
       "send: MD5OfMessageBody is the MD5 of the UTF-8 body", r)
report(r.get("MD5OfMessageAttributes") == md5_attrs(attrs),
       "send: MD5OfMessageAttributes as SQS computes it", r)
m = sqs.receive_message(QueueUrl=u, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"][0]
report(m["Body"] == body, "receive: a unicode body with CR, LF, tab and markup comes back unchanged",
       repr(m["Body"]))
report(m["MD5OfBody"] == hashlib.md5(body.encode()).hexdigest(), "receive: MD5OfBody")
report(m["MessageAttributes"] == attrs, "receive: String, Number, Binary and custom-typed attributes",
       m.get("MessageAttributes"))
report(m.get("MD5OfMessageAttributes") == md5_attrs(m["MessageAttributes"]),
       "receive: MD5OfMessageAttributes over the attributes returned", m)
want = {"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SenderId"}
report(want <= set(m["Attributes"]), "receive: All system attributes", m["Attributes"])
r = sqs.send_message(QueueUrl=u, MessageBody="x", MessageAttributes=attrs)
m = sqs.receive_message(QueueUrl=u, MessageAttributeNames=["s", "n"])["Messages"][0]
sub = {k: attrs[k] for k in ("s", "n")}
report(m.get("MessageAttributes") == sub and m.get("MD5OfMessageAttributes") == md5_attrs(sub),
       "receive: only the named attributes, and the MD5 over those", m)
r = sqs.send_message(QueueUrl=u, MessageBody="y", MessageAttributes=attrs)
m = sqs.receive_message(QueueUrl=u)["Messages"][0]
report("MessageAttributes" not in m and "MD5OfMessageAttributes" not in m and "Attributes" not in m,
       "receive: nothing asked for, no attributes and no attribute MD5", m)

sysattrs = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}}
r = sqs.send_message(QueueUrl=u, MessageBody="traced", MessageSystemAttributes=sysattrs)
report(r.get("MD5OfMessageSystemAttributes") == md5_attrs(sysattrs),
       "send: MD5OfMessageSystemAttributes of an AWSTraceHeader", r)
m = sqs.receive_message(QueueUrl=u, AttributeNames=["AWSTraceHeader"])["Messages"][0]
report(m.get("Attributes") == {"AWSTraceHeader": sysattrs["AWSTraceHeader"]["StringValue"]},
       "receive: the AWSTraceHeader system attribute, and only it", m.get("Attributes"))

# ---- ListQueues pages ----
pq = [url("b3-page-%s" % c) for c in "abc"]
seen, tok, pages = [], None, 0
while True:
    kw = {"QueueNamePrefix": "b3-page-", "MaxResults": 1}
    if tok:
        kw["NextToken"] = tok
    r = sqs.list_queues(**kw)
    seen += r.get("QueueUrls", [])
    pages += 1
    tok = r.get("NextToken")
    if not tok or pages > 10:
        break
report(seen == pq and pages == 3, "list_queues MaxResults=1 pages with NextToken", (seen, pages))

# ---- visibility expiry and redelivery ----
u = url("b3-vis", VisibilityTimeout=2)
sqs.send_message(QueueUrl=u, MessageBody="v")
m1 = sqs.receive_message(QueueUrl=u, AttributeNames=["ApproximateReceiveCount"])["Messages"]
m2 = sqs.receive_message(QueueUrl=u).get("Messages", [])
report(len(m1) == 1 and not m2, "a received message is invisible", (m1, m2))
time.sleep(2.3)
m3 = sqs.receive_message(QueueUrl=u, AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
report(len(m3) == 1 and m3[0]["Attributes"]["ApproximateReceiveCount"] == "2"
       and m3[0]["ReceiptHandle"] != m1[0]["ReceiptHandle"],
       "after its visibility timeout it comes back, receive count 2, a fresh receipt handle", m3)
code = code_of(sqs.delete_message, QueueUrl=u, ReceiptHandle=m3[0]["ReceiptHandle"])
report(code[0] is None, "delete with the fresh handle", code)
time.sleep(2.2)
report(not sqs.receive_message(QueueUrl=u).get("Messages"), "a deleted message never comes back")

# ---- dead-lettering after maxReceiveCount ----
dlq = url("b3-dlq")
src = url("b3-src", RedrivePolicy='{"deadLetterTargetArn":"%s","maxReceiveCount":"2"}' % arn(dlq))
sqs.send_message(QueueUrl=src, MessageBody="doomed")
n = 0
for _ in range(3):
    n += len(sqs.receive_message(QueueUrl=src, VisibilityTimeout=0).get("Messages", []))
d = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
report(n == 2 and len(d) == 1 and d[0]["Body"] == "doomed",
       "after maxReceiveCount receives the message moves to the dead-letter queue", (n, d))
srcs = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
report(srcs == [src], "list_dead_letter_source_queues names the source", srcs)

# ---- FIFO: order within groups, 4 consumers, in-flight blocking ----
fq = url("b3-order.fifo", FifoQueue="true", ContentBasedDeduplication="true")
GROUPS, PER = 4, 8
for i in range(PER):
    sqs.send_message_batch(QueueUrl=fq, Entries=[
        {"Id": "g%d" % g, "MessageBody": "%d:%d" % (g, i), "MessageGroupId": "g%d" % g}
        for g in range(GROUPS)])
lock = threading.Lock()
inflight, got, violations = set(), {g: [] for g in range(GROUPS)}, []


def consumer():
    c = boto3.client("sqs", endpoint_url=END, region_name="us-east-1")
    idle = 0
    while idle < 3 and sum(len(v) for v in got.values()) < GROUPS * PER:
        ms = c.receive_message(QueueUrl=fq, MaxNumberOfMessages=3, VisibilityTimeout=20,
                               WaitTimeSeconds=1).get("Messages", [])
        if not ms:
            idle += 1
            continue
        idle = 0
        with lock:
            for m in ms:
                g, i = map(int, m["Body"].split(":"))
                if g in inflight and all(int(x["Body"].split(":")[0]) != g for x in ms[:ms.index(m)]):
                    violations.append("group %d handed out while in flight" % g)
                inflight.add(g)
                got[g].append(i)
        time.sleep(0.02)
        with lock:
            for m in ms:
                inflight.discard(int(m["Body"].split(":")[0]))
        c.delete_message_batch(QueueUrl=fq, Entries=[
            {"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(ms)])


ts = [threading.Thread(target=consumer) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
report(all(got[g] == list(range(PER)) for g in range(GROUPS)),
       "FIFO: 4 consumers get every message once, in order within each group", got)
report(not violations, "FIFO: no message of a group is handed out while one is in flight", violations)

# ---- deduplication ----
dq = url("b3-dedup.fifo", FifoQueue="true")
a = sqs.send_message(QueueUrl=dq, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d")
b = sqs.send_message(QueueUrl=dq, MessageBody="two", MessageGroupId="g", MessageDeduplicationId="d")
ms = sqs.receive_message(QueueUrl=dq, MaxNumberOfMessages=10).get("Messages", [])
report(len(ms) == 1 and ms[0]["Body"] == "one", "FIFO: a repeated deduplication id is dropped", ms)
report("SequenceNumber" in a, "FIFO: send returns a SequenceNumber", a)
report(ms and ms[0]["MessageId"] == a["MessageId"], "FIFO: the message received is the first one sent", ms)
sqs.change_message_visibility(QueueUrl=dq, ReceiptHandle=ms[0]["ReceiptHandle"], VisibilityTimeout=0)
ms = sqs.receive_message(QueueUrl=dq, AttributeNames=["All"]).get("Messages", [])
at = ms[0]["Attributes"] if ms else {}
report(at.get("MessageGroupId") == "g" and at.get("MessageDeduplicationId") == "d"
       and at.get("SequenceNumber") == a["SequenceNumber"],
       "FIFO: All system attributes include MessageGroupId, MessageDeduplicationId, SequenceNumber", at)
cq = url("b3-cbd.fifo", FifoQueue="true", ContentBasedDeduplication="true")
sqs.send_message(QueueUrl=cq, MessageBody="same", MessageGroupId="g")
sqs.send_message(QueueUrl=cq, MessageBody="same", MessageGroupId="g")
ms = sqs.receive_message(QueueUrl=cq, MaxNumberOfMessages=10).get("Messages", [])
report(len(ms) == 1, "FIFO: content-based deduplication drops an identical body", ms)

# ---- long polling ----
lq = url("b3-poll")


def later():
    time.sleep(1)
    sqs.send_message(QueueUrl=lq, MessageBody="late")


threading.Thread(target=later).start()
t0 = time.time()
ms = sqs.receive_message(QueueUrl=lq, WaitTimeSeconds=10).get("Messages", [])
dt = time.time() - t0
report(len(ms) == 1 and 0.8 <= dt < 5, "long poll answers as soon as a message is sent (%.2fs)" % dt, ms)
t0 = time.time()
ms = sqs.receive_message(QueueUrl=lq, WaitTimeSeconds=2).get("Messages", [])
dt = time.time() - t0
report(not ms and 1.9 <= dt < 6, "long poll on an empty queue answers after WaitTimeSeconds (%.2fs)" % dt)

# ---- delay ----
yq = url("b3-delay", DelaySeconds=2)
sqs.send_message(QueueUrl=yq, MessageBody="later")
sqs.send_message(QueueUrl=lq, MessageBody="per-message", DelaySeconds=2)
a = sqs.receive_message(QueueUrl=yq).get("Messages", [])
b = sqs.receive_message(QueueUrl=lq).get("Messages", [])
report(not a and not b, "delayed messages (queue and per-message) are not visible at once", (a, b))
time.sleep(2.3)
a = sqs.receive_message(QueueUrl=yq).get("Messages", [])
b = sqs.receive_message(QueueUrl=lq).get("Messages", [])
report(len(a) == 1 and len(b) == 1, "... and are after the delay", (a, b))

# ---- purge ----
pq = url("b3-purge")
sqs.send_message_batch(QueueUrl=pq, Entries=[{"Id": str(i), "MessageBody": "p"} for i in range(5)])
sqs.purge_queue(QueueUrl=pq)
n = sqs.get_queue_attributes(QueueUrl=pq, AttributeNames=["ApproximateNumberOfMessages"])
report(n["Attributes"]["ApproximateNumberOfMessages"] == "0"
       and not sqs.receive_message(QueueUrl=pq).get("Messages"), "purge empties the queue", n)
report(code_of(sqs.purge_queue, QueueUrl=pq) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
       "a second purge within 60 s: PurgeQueueInProgress, 403", code_of(sqs.purge_queue, QueueUrl=pq))

# ---- errors, as botocore sees them ----
eq = url("b3-err")
gone = eq.rsplit("/", 1)[0] + "/b3-nope"
checks = [
    ("get_queue_url of a missing queue", "AWS.SimpleQueueService.NonExistentQueue",
     lambda: sqs.get_queue_url(QueueName="b3-nope")),
    ("send to a missing queue", "AWS.SimpleQueueService.NonExistentQueue",
     lambda: sqs.send_message(QueueUrl=gone, MessageBody="x")),
    ("create with other attributes", "QueueAlreadyExists",
     lambda: sqs.create_queue(QueueName="b3-err", Attributes={"DelaySeconds": "5"})),
    ("an invalid queue name", "InvalidParameterValue", lambda: sqs.create_queue(QueueName="a/b")),
    ("a garbage receipt handle", "ReceiptHandleIsInvalid",
     lambda: sqs.delete_message(QueueUrl=eq, ReceiptHandle="garbage")),
    ("MaxNumberOfMessages 11", "InvalidParameterValue",
     lambda: sqs.receive_message(QueueUrl=eq, MaxNumberOfMessages=11)),
    ("an unknown queue attribute", "InvalidAttributeName",
     lambda: sqs.set_queue_attributes(QueueUrl=eq, Attributes={"Colour": "blue"})),
    ("a bad attribute value", "InvalidAttributeValue",
     lambda: sqs.set_queue_attributes(QueueUrl=eq, Attributes={"VisibilityTimeout": "99999"})),
    ("a forbidden character in a body", "InvalidMessageContents",
     lambda: sqs.send_message(QueueUrl=eq, MessageBody="a\x01b")),
    ("a body over 256 KiB", "InvalidParameterValue",
     lambda: sqs.send_message(QueueUrl=eq, MessageBody="x" * (256 * 1024 + 1))),
    ("an empty batch", "AWS.SimpleQueueService.EmptyBatchRequest",
     lambda: sqs.send_message_batch(QueueUrl=eq, Entries=[])),
    ("11 batch entries", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
     lambda: sqs.send_message_batch(QueueUrl=eq, Entries=[
         {"Id": str(i), "MessageBody": "x"} for i in range(11)])),
    ("repeated batch ids", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
     lambda: sqs.delete_message_batch(QueueUrl=eq, Entries=[
         {"Id": "a", "ReceiptHandle": "x"}, {"Id": "a", "ReceiptHandle": "y"}])),
    ("an invalid batch id", "AWS.SimpleQueueService.InvalidBatchEntryId",
     lambda: sqs.send_message_batch(QueueUrl=eq, Entries=[{"Id": "a b", "MessageBody": "x"}])),
    ("a batch over 256 KiB", "AWS.SimpleQueueService.BatchRequestTooLong",
     lambda: sqs.send_message_batch(QueueUrl=eq, Entries=[
         {"Id": str(i), "MessageBody": "x" * 40000} for i in range(10)])),
    ("MessageGroupId on a standard queue", "InvalidParameterValue",
     lambda: sqs.send_message(QueueUrl=eq, MessageBody="x", MessageGroupId="g")),
    ("a FIFO send without MessageGroupId", "MissingParameter",
     lambda: sqs.send_message(QueueUrl=dq, MessageBody="x", MessageDeduplicationId="z")),
]
for desc, want, fn in checks:
    got = code_of(fn)
    report(got == (want, 400), "error: %s -> %s" % (desc, want), got)
sqs.tag_queue(QueueUrl=eq, Tags={"t%d" % i: "v" for i in range(50)})
got = code_of(sqs.tag_queue, QueueUrl=eq, Tags={"one-more": "v"})
report(got == ("OverLimit", 403), "error: a 51st tag -> OverLimit, 403", got)
got = code_of(sqs.add_permission, QueueUrl=eq, Label="l", AWSAccountIds=["111111111111"],
              Actions=["SendMessage"])
report(got == ("AWS.SimpleQueueService.UnsupportedOperation", 400),
       "error: AddPermission -> UnsupportedOperation", got)
ms = sqs.send_message(QueueUrl=eq, MessageBody="nf")
m = sqs.receive_message(QueueUrl=eq, VisibilityTimeout=0)["Messages"][0]
got = code_of(sqs.change_message_visibility, QueueUrl=eq, ReceiptHandle=m["ReceiptHandle"],
              VisibilityTimeout=10)
report(got == ("AWS.SimpleQueueService.MessageNotInflight", 400),
       "error: visibility of a message not in flight -> MessageNotInflight", got)
sqs.delete_queue(QueueUrl=eq)
got = code_of(sqs.create_queue, QueueName="b3-err")
report(got == ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
       "error: re-creating a just-deleted queue -> QueueDeletedRecently", got)
r = sqs.send_message_batch(QueueUrl=u, Entries=[
    {"Id": "good", "MessageBody": "fine"}, {"Id": "bad", "MessageBody": "bad\x02"}])
report([e["Id"] for e in r.get("Successful", [])] == ["good"]
       and [(e["Id"], e["Code"], e["SenderFault"]) for e in r.get("Failed", [])]
       == [("bad", "InvalidMessageContents", True)],
       "a batch reports one entry's failure and sends the rest", r)
