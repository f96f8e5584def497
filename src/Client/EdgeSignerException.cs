namespace EdgeSigner.Client;

/// <summary>A request EdgeSigner did not sign, with the contract's stable <see cref="ErrorType"/> (docs/bus-clients.md).</summary>
public sealed class EdgeSignerException : Exception
{
    /// <summary>The client's own error type: the signature came back but does not verify against the published key.</summary>
    public const string SignatureInvalid = "signature_invalid";

    /// <summary>The client's own error type: no answer before the request's deadline.</summary>
    public const string NoAnswer = "signing_timeout";

    public EdgeSignerException()
    {
        ErrorType = string.Empty;
    }

    public EdgeSignerException(string message)
        : base(message)
    {
        ErrorType = string.Empty;
    }

    public EdgeSignerException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorType = string.Empty;
    }

    public EdgeSignerException(string errorType, string message, Guid requestId, Exception? innerException = null)
        : base($"{errorType}: {message}", innerException)
    {
        ErrorType = errorType;
        RequestId = requestId;
    }

    public string ErrorType { get; }
    public Guid RequestId { get; }
}
