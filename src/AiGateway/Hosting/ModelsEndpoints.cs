using System.Buffers;
using System.Text.Json;
using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Protocol;

namespace AiGateway.Hosting;

/// <summary><c>GET /v1/models</c> and <c>/v1/models/{id}</c>, generated from the catalog and filtered to what the caller may use.</summary>
internal static class ModelsEndpoints
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/models", ListAsync).RequireAuthorization();
        endpoints.MapGet("/v1/models/{**id}", GetAsync).RequireAuthorization();
        return endpoints;
    }

    private static Task ListAsync(HttpContext context, GatewayConfigStore store)
    {
        var caller = context.Features.Get<GatewayCaller>()!;
        var created = store.LoadedAt.ToUnixTimeSeconds();
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var model in store.Current.ModelList)
            {
                if (caller.Models.Allows(model.Name)) WriteModel(writer, model, created);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return WriteJsonAsync(context, buffer);
    }

    private static Task GetAsync(HttpContext context, string id, GatewayConfigStore store)
    {
        var caller = context.Features.Get<GatewayCaller>()!;
        if (!store.Current.Models.TryGetValue(id, out var model) || !caller.Models.Allows(model.Name))
        {
            return OpenAiError.WriteAsync(context, 404, $"The model '{OpenAiError.Echo(id)}' does not exist or you do not have access to it.", OpenAiError.InvalidRequest, "model", "model_not_found");
        }
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            WriteModel(writer, model, store.LoadedAt.ToUnixTimeSeconds());
        }
        return WriteJsonAsync(context, buffer);
    }

    private static void WriteModel(Utf8JsonWriter writer, CatalogModel model, long created)
    {
        writer.WriteStartObject();
        writer.WriteString("id", model.Name);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", created);
        writer.WriteString("owned_by", model.OwnedBy);
        if (model.ContextWindow is { } window) writer.WriteNumber("context_window", window);
        writer.WriteEndObject();
    }

    private static Task WriteJsonAsync(HttpContext context, ArrayBufferWriter<byte> buffer)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        return context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }
}
