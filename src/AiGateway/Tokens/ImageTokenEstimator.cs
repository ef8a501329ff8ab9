using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AiGateway.Tokens;

/// <summary>
/// Estimates the prompt tokens of an image content part by OpenAI's published rule for GPT-4o-class vision models.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>detail: "low"</c>: <see cref="BaseTokens"/> (85), whatever the size.</item>
/// <item><c>"high"</c>, <c>"auto"</c> or absent: the image is scaled to fit 2048×2048, then so that its shortest side is
/// at most 768 px; each 512 px tile costs <see cref="TileTokens"/> (170), plus <see cref="BaseTokens"/>.</item>
/// <item>The size is read from the header of a <c>data:image/…;base64,</c> URL (PNG, GIF, JPEG, WebP). For a remote
/// URL or an unreadable header the gateway fetches nothing and uses <see cref="UnknownSizeTokens"/> (765, a
/// 1024×1024 image at high detail); the reservation is settled with the upstream's real usage.</item>
/// </list>
/// Models priced with other multipliers (gpt-4o-mini) or 32 px patches (gpt-4.1-mini, o4-mini) count differently;
/// this estimate is for admission and context checks, not billing.
/// </remarks>
internal static class ImageTokenEstimator
{
    /// <summary>Tokens of a low-detail image, and the base cost of a high-detail one.</summary>
    public const int BaseTokens = 85;

    /// <summary>Tokens per 512 px tile at high detail.</summary>
    public const int TileTokens = 170;

    /// <summary>The estimate when the image size is unknown: a 1024×1024 image at high detail.</summary>
    public const int UnknownSizeTokens = BaseTokens + (4 * TileTokens);

    // Enough base64 to reach a JPEG's frame header past a typical EXIF block.
    private const int MaxHeaderBase64Chars = 96 * 1024;

    /// <summary>Tokens of an image at low detail, or at high/auto detail with the given size (null: unknown).</summary>
    public static int Estimate(bool lowDetail, int? width, int? height)
    {
        if (lowDetail)
        {
            return BaseTokens;
        }

        if (width is not > 0 || height is not > 0)
        {
            return UnknownSizeTokens;
        }

        double w = width.Value;
        double h = height.Value;
        if (w > 2048 || h > 2048)
        {
            double scale = 2048 / Math.Max(w, h);
            w *= scale;
            h *= scale;
        }

        double shortest = Math.Min(w, h);
        if (shortest > 768)
        {
            double scale = 768 / shortest;
            w *= scale;
            h *= scale;
        }

        long tiles = (long)Math.Ceiling(w / 512) * (long)Math.Ceiling(h / 512);
        return (int)(BaseTokens + (TileTokens * tiles));
    }

    /// <summary>
    /// Tokens of an OpenAI <c>image_url</c> value: a URL string or <c>{"url": …, "detail": …}</c>.
    /// </summary>
    /// <returns>False when the value has neither shape.</returns>
    public static bool TryEstimate(JsonElement imageUrl, out int tokens)
    {
        JsonElement url;
        bool lowDetail = false;
        if (imageUrl.ValueKind == JsonValueKind.String)
        {
            url = imageUrl;
        }
        else if (imageUrl.ValueKind == JsonValueKind.Object
            && imageUrl.TryGetProperty("url", out url)
            && url.ValueKind == JsonValueKind.String)
        {
            lowDetail = imageUrl.TryGetProperty("detail", out var detail)
                && detail.ValueKind == JsonValueKind.String
                && detail.ValueEquals("low");
        }
        else
        {
            tokens = 0;
            return false;
        }

        if (lowDetail)
        {
            tokens = BaseTokens;
            return true;
        }

        tokens = TryReadDataUrlSize(JsonMarshal.GetRawUtf8Value(url), out int width, out int height)
            ? Estimate(false, width, height)
            : UnknownSizeTokens;
        return true;
    }

    /// <summary>
    /// Tokens of an Anthropic image block's <c>source</c>, counted as the <c>image_url</c> it translates to for an
    /// OpenAI-compatible deployment: a <c>base64</c> source is the data URL <c>data:{media_type};base64,{data}</c>, any
    /// other source an image of unknown size.
    /// </summary>
    public static int EstimateAnthropicSource(JsonElement source)
    {
        if (source.ValueKind == JsonValueKind.Object
            && source.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("base64")
            && source.TryGetProperty("media_type", out var mediaType) && mediaType.ValueKind == JsonValueKind.String
            && mediaType.GetString()!.StartsWith("image/", StringComparison.Ordinal)
            && source.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String
            && TryReadBase64Size(JsonMarshal.GetRawUtf8Value(data).Trim((byte)'"'), out int width, out int height))
        {
            return Estimate(false, width, height);
        }

        return UnknownSizeTokens;
    }

    /// <summary>Reads the pixel size from the header of a base64 data URL given as raw (quoted, escaped) JSON.</summary>
    internal static bool TryReadDataUrlSize(ReadOnlySpan<byte> rawJsonUrl, out int width, out int height)
    {
        width = height = 0;
        ReadOnlySpan<byte> url = rawJsonUrl.Trim((byte)'"');
        if (!url.StartsWith("data:image/"u8))
        {
            return false;
        }

        int comma = url[..Math.Min(url.Length, 128)].IndexOf(";base64,"u8);
        if (comma < 0)
        {
            return false;
        }

        return TryReadBase64Size(url[(comma + ";base64,".Length)..], out width, out height);
    }

    /// <summary>Reads the pixel size from the start of base64 image data as it appears in raw JSON (escapes included).</summary>
    private static bool TryReadBase64Size(ReadOnlySpan<byte> payload, out int width, out int height)
    {
        width = height = 0;
        payload = payload[..Math.Min(payload.Length, MaxHeaderBase64Chars)];

        byte[] base64 = ArrayPool<byte>.Shared.Rent(payload.Length);
        byte[] decoded = ArrayPool<byte>.Shared.Rent((payload.Length / 4 * 3) + 3);
        try
        {
            // JSON writers may escape '/' as "\/"; base64 has no other character that needs escaping.
            int length = 0;
            foreach (byte b in payload)
            {
                if (b != (byte)'\\')
                {
                    base64[length++] = b;
                }
            }

            length -= length % 4;
            Base64.DecodeFromUtf8(base64.AsSpan(0, length), decoded, out _, out int written, isFinalBlock: length == payload.Length);
            return TryReadImageSize(decoded.AsSpan(0, written), out width, out height);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(base64);
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }

    internal static bool TryReadImageSize(ReadOnlySpan<byte> image, out int width, out int height)
    {
        width = height = 0;
        if (image.Length >= 24 && image.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']))
        {
            width = BinaryPrimitives.ReadInt32BigEndian(image[16..]);
            height = BinaryPrimitives.ReadInt32BigEndian(image[20..]);
        }
        else if (image.Length >= 10 && image.StartsWith("GIF8"u8))
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(image[6..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(image[8..]);
        }
        else if (image.Length >= 30 && image.StartsWith("RIFF"u8) && image[8..].StartsWith("WEBP"u8))
        {
            ReadWebPSize(image, out width, out height);
        }
        else if (image.Length >= 4 && image[0] == 0xFF && image[1] == 0xD8)
        {
            ReadJpegSize(image, out width, out height);
        }

        return width > 0 && height > 0;
    }

    private static void ReadWebPSize(ReadOnlySpan<byte> image, out int width, out int height)
    {
        width = height = 0;
        ReadOnlySpan<byte> chunk = image[12..16];
        if (chunk.SequenceEqual("VP8X"u8))
        {
            width = 1 + (image[24] | (image[25] << 8) | (image[26] << 16));
            height = 1 + (image[27] | (image[28] << 8) | (image[29] << 16));
        }
        else if (chunk.SequenceEqual("VP8 "u8))
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(image[26..]) & 0x3FFF;
            height = BinaryPrimitives.ReadUInt16LittleEndian(image[28..]) & 0x3FFF;
        }
        else if (chunk.SequenceEqual("VP8L"u8))
        {
            width = 1 + (((image[22] & 0x3F) << 8) | image[21]);
            height = 1 + (((image[24] & 0x0F) << 10) | (image[23] << 2) | ((image[22] & 0xC0) >> 6));
        }
    }

    private static void ReadJpegSize(ReadOnlySpan<byte> image, out int width, out int height)
    {
        width = height = 0;
        int position = 2;
        while (position + 9 < image.Length)
        {
            if (image[position] != 0xFF)
            {
                return;
            }

            byte marker = image[position + 1];
            if (marker == 0xFF)
            {
                position++;
                continue;
            }

            bool startOfFrame = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            if (startOfFrame)
            {
                height = BinaryPrimitives.ReadUInt16BigEndian(image[(position + 5)..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(image[(position + 7)..]);
                return;
            }

            position += 2 + BinaryPrimitives.ReadUInt16BigEndian(image[(position + 2)..]);
        }
    }
}
