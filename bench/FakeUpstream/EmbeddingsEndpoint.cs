using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FakeUpstream;

/// <summary><c>POST /v1/embeddings</c>: one fixed vector (FAKE_EMBED_DIMS wide, default 256) per input.</summary>
internal static class EmbeddingsEndpoint
{
    private static readonly byte[] Vector = BuildVector();

    public static async Task HandleAsync(HttpContext context, UpstreamState state)
    {
        var response = context.Response;
        if (!state.Authorize(context.Request))
        {
            await Errors.WriteAsync(response, StatusCodes.Status401Unauthorized, "invalid_api_key", "Incorrect API key provided.");
            return;
        }

        var scan = await RequestScan.ReadAsync(context.Request.BodyReader, context.RequestAborted);
        if (scan is not { Inputs: > 0 } body)
        {
            await Errors.WriteAsync(response, StatusCodes.Status400BadRequest, "invalid_request_error", "'input' is required.");
            return;
        }

        state.LastModel = body.Model;
        state.CountEmbeddings();
        response.ContentType = "application/json";
        var writer = response.BodyWriter;
        writer.Write("{\"object\":\"list\",\"data\":["u8);
        for (var i = 0; i < body.Inputs; i++)
        {
            writer.Write(Encoding.UTF8.GetBytes(string.Create(
                CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ",")}{{\"object\":\"embedding\",\"index\":{i},\"embedding\":")));
            writer.Write(Vector);
            writer.Write("}"u8);
        }

        var tokens = Math.Max(1, body.BodyBytes / 4);
        writer.Write(Encoding.UTF8.GetBytes(string.Create(
            CultureInfo.InvariantCulture,
            $"],\"model\":\"{JsonEncodedText.Encode(body.Model)}\",\"usage\":{{\"prompt_tokens\":{tokens},\"total_tokens\":{tokens}}}}}\n")));
        await writer.FlushAsync(context.RequestAborted);
    }

    private static byte[] BuildVector()
    {
        var dims = int.TryParse(Environment.GetEnvironmentVariable("FAKE_EMBED_DIMS"), CultureInfo.InvariantCulture, out var d) && d > 0 ? d : 256;
        var values = Enumerable.Range(0, dims).Select(i => ((i % 200) - 100) / 1000.0);
        return Encoding.UTF8.GetBytes("[" + string.Join(',', values.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture))) + "]");
    }
}
