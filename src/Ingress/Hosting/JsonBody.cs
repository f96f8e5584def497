using System.Text.Json;
using EdgeSigner.Contracts.Signing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Hosting;

/// <summary>
/// Reads a JSON body under a byte limit that Kestrel enforces while it reads, so an oversized or endless body is
/// refused (413) without being buffered. Unknown members, wrong types and broken JSON are a 400 that says where.
/// </summary>
public static class JsonBody
{
    public static async Task<(T? Body, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, long maxBytes, CancellationToken ct)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = maxBytes;
        }

        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        try
        {
            var body = await JsonSerializer.DeserializeAsync<T>(request.Body, options, ct);
            return body is null ? (null, Problems.InvalidRequest("The body must be a JSON object.")) : (body, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.InvalidRequest($"The body is not valid JSON for this call{Where(ex)}."));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBytes));
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel gave up on the body (too slow: under MinRequestBodyDataRate; cut short): its status, our problem body.
            return (null, Problems.Create(ex.StatusCode, Problems.ErrorTypeOf(ex.StatusCode), "The request body could not be read in full: it was too slow or cut short."));
        }
    }

    private static ProblemHttpResult TooLarge(long maxBytes) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, ErrorTypes.PayloadTooLarge, $"The request body is over its limit of {maxBytes} bytes.");

    private static string Where(JsonException ex) => ex.Path is { Length: > 0 } path ? $" (at {path})" : string.Empty;
}
