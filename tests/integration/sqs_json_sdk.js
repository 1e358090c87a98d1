// SPDX-License-Identifier: Apache-2.0
// The AWS SDK for JavaScript v3 against husk's SQS JSON protocol (run by sqs_json.sh from the
// folder where npm installed @aws-sdk/client-sqs). The SDK checks MD5OfMessageBody on sends and
// receives itself; this script checks MD5OfMessageAttributes as SQS defines it. Prints "ok" or
// the first failure.
const path = require("path");
const crypto = require("crypto");
const sqs = require(path.join(process.cwd(), "node_modules", "@aws-sdk", "client-sqs"));

const client = new sqs.SQSClient({
  endpoint: process.env.ENDPOINT,
  region: "us-east-1",
  maxAttempts: 1,
});
const send = (cmd, input) => client.send(new sqs[cmd + "Command"](input));

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

function attrsMd5(attrs) {
  const parts = [];
  const field = (b) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name];
    field(Buffer.from(name, "utf8"));
    field(Buffer.from(a.DataType, "utf8"));
    if (a.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(a.BinaryValue));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(a.StringValue, "utf8"));
    }
  }
  return crypto.createHash("md5").update(Buffer.concat(parts)).digest("hex");
}

async function main() {
  const { QueueUrl } = await send("CreateQueue", { QueueName: "sdk-std", Attributes: { VisibilityTimeout: "30" } });
  check(QueueUrl.endsWith("/000000000000/sdk-std"), "CreateQueue URL " + QueueUrl);
  const got = await send("GetQueueUrl", { QueueName: "sdk-std" });
  check(got.QueueUrl === QueueUrl, "GetQueueUrl");

  const attrs = {
    color: { DataType: "String", StringValue: "grün" },
    n: { DataType: "Number", StringValue: "3.14" },
    raw: { DataType: "Binary", BinaryValue: Uint8Array.from([0, 1, 2, 255]) },
  };
  const sent = await send("SendMessage", { QueueUrl, MessageBody: "hello ✓", MessageAttributes: attrs });
  check(sent.MD5OfMessageAttributes === attrsMd5(attrs), "MD5OfMessageAttributes on send");

  const r = await send("ReceiveMessage", {
    QueueUrl,
    MaxNumberOfMessages: 10,
    MessageAttributeNames: ["All"],
    MessageSystemAttributeNames: ["All"],
  });
  check(r.Messages && r.Messages.length === 1, "one message received");
  const m = r.Messages[0];
  check(m.Body === "hello ✓", "body");
  check(m.MessageId === sent.MessageId, "message id");
  check(m.MessageAttributes.color.StringValue === "grün", "string attribute");
  check(Buffer.from(m.MessageAttributes.raw.BinaryValue).equals(Buffer.from([0, 1, 2, 255])), "binary attribute");
  check(m.MD5OfMessageAttributes === attrsMd5(m.MessageAttributes), "MD5OfMessageAttributes on receive");
  check(m.Attributes.ApproximateReceiveCount === "1", "ApproximateReceiveCount");
  await send("DeleteMessage", { QueueUrl, ReceiptHandle: m.ReceiptHandle });

  const b = await send("SendMessageBatch", {
    QueueUrl,
    Entries: [
      { Id: "a", MessageBody: "one" },
      { Id: "b", MessageBody: "two", MessageAttributes: { k: { DataType: "String", StringValue: "v" } } },
    ],
  });
  check(b.Successful.length === 2 && (b.Failed || []).length === 0, "SendMessageBatch");
  const rb = await send("ReceiveMessage", { QueueUrl, MaxNumberOfMessages: 10 });
  check(rb.Messages.length === 2, "batch received");
  const db = await send("DeleteMessageBatch", {
    QueueUrl,
    Entries: rb.Messages.map((x, i) => ({ Id: "d" + i, ReceiptHandle: x.ReceiptHandle })),
  });
  check(db.Successful.length === 2, "DeleteMessageBatch");

  const fifo = (await send("CreateQueue", {
    QueueName: "sdk-q.fifo",
    Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
  })).QueueUrl;
  for (const body of ["f1", "f2", "f3"]) await send("SendMessage", { QueueUrl: fifo, MessageBody: body, MessageGroupId: "g" });
  const rf = await send("ReceiveMessage", { QueueUrl: fifo, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["SequenceNumber"] });
  check(rf.Messages.map((x) => x.Body).join() === "f1,f2,f3", "FIFO order");
  check(/^[0-9]{20}$/.test(rf.Messages[0].Attributes.SequenceNumber), "SequenceNumber");

  const list = await send("ListQueues", { QueueNamePrefix: "sdk-" });
  check(list.QueueUrls.length === 2, "ListQueues");
  await send("TagQueue", { QueueUrl, Tags: { a: "1" } });
  check((await send("ListQueueTags", { QueueUrl })).Tags.a === "1", "tags");

  try {
    await send("GetQueueUrl", { QueueName: "sdk-missing" });
    check(false, "GetQueueUrl of a missing queue must fail");
  } catch (e) {
    check(e.name === "QueueDoesNotExist" || e.Code === "AWS.SimpleQueueService.NonExistentQueue",
      "QueueDoesNotExist, got " + e.name + " " + e.Code);
    check(e.$metadata.httpStatusCode === 400, "status 400");
  }
  try {
    await send("DeleteMessage", { QueueUrl, ReceiptHandle: "bogus" });
    check(false, "DeleteMessage of a bogus receipt must fail");
  } catch (e) {
    check(e.name === "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid, got " + e.name);
  }
  await send("DeleteQueue", { QueueUrl });
  console.log("ok");
}

main().catch((e) => {
  console.log(String(e && e.stack ? e.stack.split("\n").slice(0, 3).join(" | ") : e));
  process.exit(1);
});
