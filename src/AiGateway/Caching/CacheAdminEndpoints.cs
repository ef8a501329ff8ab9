using System.Text.Json.Serialization;
using AiGateway.Configuration;
using AiGateway.Protocol;
using Microsoft.Extensions.Caching.Hybrid;

namespace AiGateway.Caching;

/// <summary>
/// <c>DELETE /admin/v1/cache</c> (everything), <c>/admin/v1/cache/models/{model}</c> and
/// <c>/admin/v1/cache/entries/{key}</c> (the <c>x-gateway-cache-key</c> of a response). A key purge
/// deletes the Redis entry too, so other replicas drop it within <see cref="ResponseCacheStore.SharedMemoryTtl"/>;
/// model and global purges are tag invalidations, which other replicas may not see until the entries expire.
/// </summary>
internal static class CacheAdminEndpoints
{
    public static RouteGroupBuilder MapCacheAdmin(this RouteGroupBuilder admin)
    {
        admin.MapDelete("/v1/cache", async (ResponseCacheStore store, ILogger<ResponseCacheStore> logger, CancellationToken ct) =>
        {
            // "*" is HybridCache's wildcard tag: every entry, whatever its tags.
            await store.Cache.RemoveByTagAsync("*", ct);
            CacheLog.Purged(logger, "all");
            return Results.Json(new CachePurged("all", null), CachingJsonContext.Default.CachePurged);
        });
        admin.MapDelete("/v1/cache/models/{model}", async (string model, ResponseCacheStore store, GatewayConfigStore config, ILogger<ResponseCacheStore> logger, CancellationToken ct) =>
        {
            if (!config.Current.Models.ContainsKey(model))
            {
                return OpenAiError.Result(404, $"The model '{OpenAiError.Echo(model)}' is not in the catalog.", OpenAiError.InvalidRequest, "model", "model_not_found");
            }
            await store.Cache.RemoveByTagAsync(ResponseCacheStore.ModelTag(model), ct);
            CacheLog.Purged(logger, "model");
            return Results.Json(new CachePurged("model", model), CachingJsonContext.Default.CachePurged);
        });
        admin.MapDelete("/v1/cache/entries/{key}", async (string key, ResponseCacheStore store, ILogger<ResponseCacheStore> logger, CancellationToken ct) =>
        {
            if (key.Length != 64 || !key.All(char.IsAsciiHexDigitLower))
            {
                return OpenAiError.Result(400, "A cache key is the 64 lowercase hex characters of an x-gateway-cache-key header.", OpenAiError.InvalidRequest, "key", "invalid_value");
            }
            await store.Cache.RemoveAsync(key, ct);
            CacheLog.Purged(logger, "entry");
            return Results.Json(new CachePurged("entry", key), CachingJsonContext.Default.CachePurged);
        });
        return admin;
    }
}

internal sealed record CachePurged(string Purged, string? Target);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CachePurged))]
internal sealed partial class CachingJsonContext : JsonSerializerContext;
