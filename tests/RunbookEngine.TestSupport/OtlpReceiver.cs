using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace RunbookEngine.TestSupport;

/// <summary>
/// A trace collector at the true boundary: an OTLP/HTTP endpoint on 127.0.0.1 that accepts what a host exports to
/// <c>/v1/traces</c> and decodes the protobuf itself (only the fields the tests read), so a test sees exactly the
/// spans that left the host. It also answers <c>GET /ping</c>, as an HTTP API a runbook may call.
/// </summary>
public sealed class OtlpReceiver : LoopbackHttpServer
{
    private readonly List<ReceivedSpan> _spans = [];

    private OtlpReceiver()
    {
    }

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ReceivedSpan> Spans
    {
        get
        {
            lock (_spans)
            {
                return [.. _spans];
            }
        }
    }

    /// <summary>Starts a receiver on a free loopback port.</summary>
    /// <returns>The receiver.</returns>
    public static OtlpReceiver Start()
    {
        // Its address is what to configure as the OTLP endpoint.
        var receiver = new OtlpReceiver();
        receiver.Listen();
        return receiver;
    }

    /// <summary>The spans of one trace once they satisfy a condition (up to 2 minutes; export is batched).</summary>
    /// <param name="traceId">The trace, 32 hex digits.</param>
    /// <param name="complete">When the trace holds everything awaited.</param>
    /// <param name="failure">What is reported if it never does.</param>
    /// <returns>The trace's spans.</returns>
    public Task<IReadOnlyList<ReceivedSpan>> TraceAsync(string traceId, Func<IReadOnlyList<ReceivedSpan>, bool> complete, string failure) =>
        UntilAsync<IReadOnlyList<ReceivedSpan>>(
            () => [.. Spans.Where(s => s.TraceId == traceId)],
            complete,
            TimeSpan.FromMinutes(2),
            trace => $"{failure}; trace {traceId} holds: {string.Join(", ", trace.Select(s => s.Name))}");

    /// <inheritdoc />
    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        if (context.Request.HttpMethod == "POST" && context.Request.Url?.AbsolutePath == "/v1/traces")
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var spans = OtlpDecoder.ExportTraceServiceRequest(body.ToArray());
            lock (_spans)
            {
                _spans.AddRange(spans);
            }

            // An empty ExportTraceServiceResponse: everything was accepted.
            response.ContentType = "application/x-protobuf";
            response.StatusCode = 200;
        }
        else
        {
            response.StatusCode = context.Request.Url?.AbsolutePath == "/ping" ? 200 : 404;
        }
    }
}

/// <summary>One span as a collector received it.</summary>
/// <param name="TraceId">The trace, 32 hex digits.</param>
/// <param name="SpanId">The span, 16 hex digits.</param>
/// <param name="ParentSpanId">The parent span, or null for a root.</param>
/// <param name="Name">The span's name.</param>
/// <param name="Attributes">Its attributes, values as text.</param>
/// <param name="Links">The spans it links to.</param>
/// <param name="Status">0 unset, 1 ok, 2 error.</param>
/// <param name="StatusMessage">The status description.</param>
/// <param name="Events">The names of its events.</param>
/// <param name="Resource">The resource attributes of the process that sent it.</param>
/// <param name="Scope">The instrumentation scope (the ActivitySource name).</param>
public sealed record ReceivedSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<ReceivedLink> Links,
    int Status,
    string? StatusMessage,
    IReadOnlyList<string> Events,
    IReadOnlyDictionary<string, string> Resource,
    string Scope)
{
    /// <summary>An attribute's value, or null.</summary>
    /// <param name="key">The attribute.</param>
    /// <returns>Its value as text.</returns>
    public string? this[string key] => Attributes.GetValueOrDefault(key);
}

/// <summary>A link from one span to another.</summary>
/// <param name="TraceId">The linked trace.</param>
/// <param name="SpanId">The linked span.</param>
public sealed record ReceivedLink(string TraceId, string SpanId);

/// <summary>Just enough protobuf to read OTLP traces (opentelemetry/proto/collector/trace/v1).</summary>
internal static class OtlpDecoder
{
    public static List<ReceivedSpan> ExportTraceServiceRequest(byte[] message)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
            {
                ResourceSpans(value.Bytes, spans);
            }
        }

        return spans;
    }

    private static void ResourceSpans(byte[] message, List<ReceivedSpan> spans)
    {
        var resource = new Dictionary<string, string>();
        var scopes = new List<byte[]>();
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
            {
                foreach (var (f, v) in Fields(value.Bytes).Where(x => x.Field == 1))
                {
                    var (key, text) = KeyValue(v.Bytes);
                    resource[key] = text;
                }
            }
            else if (field == 2)
            {
                scopes.Add(value.Bytes);
            }
        }

        foreach (var scopeSpans in scopes)
        {
            var scope = "";
            foreach (var (field, value) in Fields(scopeSpans))
            {
                if (field == 1)
                {
                    scope = Fields(value.Bytes).Where(x => x.Field == 1).Select(x => Encoding.UTF8.GetString(x.Value.Bytes)).FirstOrDefault() ?? "";
                }
                else if (field == 2)
                {
                    spans.Add(Span(value.Bytes, resource, scope));
                }
            }
        }
    }

    private static ReceivedSpan Span(byte[] message, IReadOnlyDictionary<string, string> resource, string scope)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null, statusMessage = null;
        var status = 0;
        var attributes = new Dictionary<string, string>();
        var links = new List<ReceivedLink>();
        var events = new List<string>();
        foreach (var (field, value) in Fields(message))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value.Bytes); break;
                case 2: spanId = Convert.ToHexStringLower(value.Bytes); break;
                case 4: parent = value.Bytes.Length == 0 ? null : Convert.ToHexStringLower(value.Bytes); break;
                case 5: name = Encoding.UTF8.GetString(value.Bytes); break;
                case 9:
                    var (key, text) = KeyValue(value.Bytes);
                    attributes[key] = text;
                    break;
                case 11:
                    events.Add(Fields(value.Bytes).Where(x => x.Field == 2).Select(x => Encoding.UTF8.GetString(x.Value.Bytes)).FirstOrDefault() ?? "");
                    break;
                case 13:
                    var link = Fields(value.Bytes).ToList();
                    links.Add(new ReceivedLink(
                        Convert.ToHexStringLower(link.First(x => x.Field == 1).Value.Bytes),
                        Convert.ToHexStringLower(link.First(x => x.Field == 2).Value.Bytes)));
                    break;
                case 15:
                    foreach (var (f, v) in Fields(value.Bytes))
                    {
                        if (f == 2)
                        {
                            statusMessage = Encoding.UTF8.GetString(v.Bytes);
                        }
                        else if (f == 3)
                        {
                            status = (int)v.Number;
                        }
                    }

                    break;
            }
        }

        return new ReceivedSpan(traceId, spanId, parent, name, attributes, links, status, statusMessage, events, resource, scope);
    }

    private static (string Key, string Value) KeyValue(byte[] message)
    {
        var key = "";
        var text = "";
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
            {
                key = Encoding.UTF8.GetString(value.Bytes);
            }
            else if (field == 2)
            {
                foreach (var (f, v) in Fields(value.Bytes))
                {
                    text = f switch
                    {
                        1 => Encoding.UTF8.GetString(v.Bytes),
                        2 => v.Number != 0 ? "true" : "false",
                        3 => ((long)v.Number).ToString(CultureInfo.InvariantCulture),
                        4 => BitConverter.Int64BitsToDouble((long)v.Number).ToString(CultureInfo.InvariantCulture),
                        _ => text,
                    };
                }
            }
        }

        return (key, text);
    }

    /// <summary>The fields of a message in order: varints and fixed numbers as a number, length-delimited ones as bytes.</summary>
    private static IEnumerable<(int Field, FieldValue Value)> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return (field, new FieldValue(Varint(message, ref position), []));
                    break;
                case 1:
                    yield return (field, new FieldValue(BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(position, 8)), []));
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    yield return (field, new FieldValue(0, message.AsSpan(position, length).ToArray()));
                    position += length;
                    break;
                case 5:
                    yield return (field, new FieldValue(BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(position, 4)), []));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"unexpected protobuf wire type {tag & 7} for field {field}");
            }
        }
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    private readonly record struct FieldValue(ulong Number, byte[] Bytes);
}
