using EdgeSigner.Contracts.Signing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace EdgeSigner.Ingress.Hosting;

/// <summary>
/// RFC 9457 problem bodies with the contract's <c>error_type</c> and <c>request_id</c>. Never a stack trace, never
/// a payload.
/// </summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string errorType, string detail, string? requestId = null) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Type = $"https://edgesigner.dev/errors/{errorType}",
            Title = TitleOf(errorType),
            Detail = detail,
            Extensions = { ["error_type"] = errorType, ["request_id"] = requestId },
        });

    public static ProblemHttpResult InvalidRequest(string detail) => Create(StatusCodes.Status400BadRequest, ErrorTypes.InvalidRequest, detail);

    public static ProblemHttpResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, ErrorTypes.NotFound, detail);

    /// <summary>The error type of a status for which no handler chose one (framework-made problems).</summary>
    public static string ErrorTypeOf(int status) => status switch
    {
        400 => ErrorTypes.InvalidRequest,
        401 => ErrorTypes.Unauthenticated,
        403 => "forbidden",
        404 => ErrorTypes.NotFound,
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => ErrorTypes.PayloadTooLarge,
        415 => "unsupported_media_type",
        429 => ErrorTypes.RateLimited,
        503 => ErrorTypes.ServiceUnavailable,
        504 => ErrorTypes.SigningTimeout,
        _ when status >= 500 => ErrorTypes.InternalError,
        _ => ErrorTypes.InvalidRequest,
    };

    private static string TitleOf(string errorType) => errorType switch
    {
        ErrorTypes.InvalidRequest => "The request is not valid.",
        ErrorTypes.Unauthenticated => "Credentials are missing, unknown or revoked.",
        ErrorTypes.TenantDisabled => "The tenant is disabled.",
        ErrorTypes.NotFound => "Not found.",
        ErrorTypes.PayloadTooLarge => "The payload is too large.",
        ErrorTypes.ServiceUnavailable => "Signing is unavailable.",
        ErrorTypes.SigningTimeout => "No signature before the deadline.",
        _ => errorType.Replace('_', ' '),
    };
}
