using System.Buffers;
using System.Globalization;
using System.Text.Json;
using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;

namespace AiGateway.Hosting;

/// <summary>
/// <c>GET /v1/models</c> and <c>/v1/models/{id}</c>, generated from the catalog and filtered to what the caller may use.
/// Requests with <c>anthropic-version</c> (Anthropic SDKs) get Anthropic's shapes and pagination
/// (<see cref="ApiSurfaces.Of(HttpRequest)"/>); all others get OpenAI's.
/// </summary>
internal static class ModelsEndpoints
{
    /// <summary>Anthropic's page size when the request names none.</summary>
    private const int DefaultAnthropicLimit = 20;

    /// <summary>Anthropic's largest page.</summary>
    private const int MaxAnthropicLimit = 1000;

    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/models", ListAsync).RequireAuthorization();
        endpoints.MapGet("/v1/models/{**id}", GetAsync).RequireAuthorization();
        return endpoints;
    }

    private static Task ListAsync(HttpContext context, GatewayConfigStore store)
    {
        var caller = context.GetCaller()!;
        if (ApiSurfaces.Of(context) == ApiSurface.Anthropic)
        {
            return ListAnthropicAsync(context, store, caller);
        }

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
        var caller = context.GetCaller()!;
        if (!store.Current.Models.TryGetValue(id, out var model) || !caller.Models.Allows(model.Name))
        {
            // Written in Anthropic's shape (not_found_error) on the Anthropic surface.
            return OpenAiError.WriteAsync(context, 404, $"The model '{OpenAiError.Echo(id)}' does not exist or you do not have access to it.", OpenAiError.InvalidRequest, "model", "model_not_found");
        }
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            if (ApiSurfaces.Of(context) == ApiSurface.Anthropic)
            {
                WriteAnthropicModel(writer, model, CreatedAt(store));
            }
            else
            {
                WriteModel(writer, model, store.LoadedAt.ToUnixTimeSeconds());
            }
        }
        return WriteJsonAsync(context, buffer);
    }

    /// <summary>
    /// Anthropic's list: one page of the caller's models in catalog order, <c>limit</c> long, after <c>after_id</c> or
    /// before <c>before_id</c>; <c>has_more</c> says whether more lie in that direction.
    /// </summary>
    private static Task ListAnthropicAsync(HttpContext context, GatewayConfigStore store, GatewayCaller caller)
    {
        var query = context.Request.Query;
        if (!TryReadLimit(query, out var limit, out var problem)
            || !TryReadCursor(query, "after_id", out var afterId, out problem)
            || !TryReadCursor(query, "before_id", out var beforeId, out problem))
        {
            return OpenAiError.WriteAsync(context, 400, problem, OpenAiError.InvalidRequest);
        }
        if (afterId is not null && beforeId is not null)
        {
            return OpenAiError.WriteAsync(context, 400, "after_id and before_id cannot be used together.", OpenAiError.InvalidRequest);
        }

        var config = store.Current;
        var visible = new List<CatalogModel>(config.ModelList.Count);
        foreach (var model in config.ModelList)
        {
            if (caller.Models.Allows(model.Name)) visible.Add(model);
        }

        int start, end;
        bool hasMore;
        if ((afterId ?? beforeId) is { } cursor)
        {
            // A model the caller may not use is not revealed as a valid cursor either.
            var index = config.Models.TryGetValue(cursor, out var cursorModel) ? visible.IndexOf(cursorModel) : -1;
            if (index < 0)
            {
                var name = afterId is not null ? "after_id" : "before_id";
                return OpenAiError.WriteAsync(context, 400, $"{name}: '{OpenAiError.Echo(cursor)}' is not the id of a model you can list.", OpenAiError.InvalidRequest);
            }
            if (afterId is not null)
            {
                start = index + 1;
                end = Math.Min(visible.Count, start + limit);
                hasMore = end < visible.Count;
            }
            else
            {
                end = index;
                start = Math.Max(0, end - limit);
                hasMore = start > 0;
            }
        }
        else
        {
            start = 0;
            end = Math.Min(visible.Count, limit);
            hasMore = end < visible.Count;
        }

        var createdAt = CreatedAt(store);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("data");
            for (var i = start; i < end; i++)
            {
                WriteAnthropicModel(writer, visible[i], createdAt);
            }
            writer.WriteEndArray();
            writer.WriteBoolean("has_more", hasMore);
            if (start < end) writer.WriteString("first_id", visible[start].Name); else writer.WriteNull("first_id");
            if (start < end) writer.WriteString("last_id", visible[end - 1].Name); else writer.WriteNull("last_id");
            writer.WriteEndObject();
        }
        return WriteJsonAsync(context, buffer);
    }

    private static bool TryReadLimit(IQueryCollection query, out int limit, out string problem)
    {
        limit = DefaultAnthropicLimit;
        problem = "";
        if (!query.TryGetValue("limit", out var values))
        {
            return true;
        }
        if (values.Count == 1
            && int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
            && limit is >= 1 and <= MaxAnthropicLimit)
        {
            return true;
        }
        problem = $"limit: must be one integer from 1 to {MaxAnthropicLimit}, got '{OpenAiError.Echo(values.ToString())}'.";
        return false;
    }

    private static bool TryReadCursor(IQueryCollection query, string name, out string? id, out string problem)
    {
        id = null;
        problem = "";
        if (!query.TryGetValue(name, out var values))
        {
            return true;
        }
        if (values.Count == 1 && !string.IsNullOrEmpty(values[0]))
        {
            id = values[0];
            return true;
        }
        problem = $"{name}: must be one model id.";
        return false;
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

    private static void WriteAnthropicModel(Utf8JsonWriter writer, CatalogModel model, string createdAt)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "model");
        writer.WriteString("id", model.Name);
        // The catalog has no separate display name; the public name is what clients must send anyway.
        writer.WriteString("display_name", model.Name);
        writer.WriteString("created_at", createdAt);
        if (model.ContextWindow is { } window) writer.WriteNumber("max_input_tokens", window);
        if (model.MaxOutputTokens is { } maxOutput) writer.WriteNumber("max_tokens", maxOutput);
        writer.WriteEndObject();
    }

    /// <summary>RFC 3339 in UTC to the second, the same instant as the OpenAI shape's <c>created</c>.</summary>
    private static string CreatedAt(GatewayConfigStore store) =>
        DateTimeOffset.FromUnixTimeSeconds(store.LoadedAt.ToUnixTimeSeconds()).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static Task WriteJsonAsync(HttpContext context, ArrayBufferWriter<byte> buffer)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        return context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }
}
