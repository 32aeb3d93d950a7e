// Package pgerr carries PostgreSQL errors: the SQLSTATE codes Strand uses,
// as named constants, and an error type that holds a code with the fields
// of a Postgres ErrorResponse. Every error that reaches a client carries a
// SQLSTATE; an error without one is reported as XX000 (internal_error).
package pgerr

import (
	"errors"
	"fmt"
)

// Code is a five-character SQLSTATE.
type Code string

// The SQLSTATEs Strand raises, named as in PostgreSQL's errcodes.txt.
const (
	SuccessfulCompletion               Code = "00000"
	Warning                            Code = "01000"
	FeatureNotSupported                Code = "0A000"
	CardinalityViolation               Code = "21000"
	DataException                      Code = "22000"
	StringDataRightTruncation          Code = "22001"
	NumericValueOutOfRange             Code = "22003"
	InvalidDatetimeFormat              Code = "22007"
	DatetimeFieldOverflow              Code = "22008"
	InvalidTimeZoneDisplacementValue   Code = "22009"
	DivisionByZero                     Code = "22012"
	IntervalFieldOverflow              Code = "22015"
	InvalidParameterValue              Code = "22023"
	CharacterNotInRepertoire           Code = "22021"
	InvalidEscapeSequence              Code = "22025"
	InvalidTextRepresentation          Code = "22P02"
	InvalidBinaryRepresentation        Code = "22P03"
	NullValueNotAllowed                Code = "22004"
	InvalidJSONText                    Code = "22P02"
	IntegrityConstraintViolation       Code = "23000"
	NotNullViolation                   Code = "23502"
	ForeignKeyViolation                Code = "23503"
	UniqueViolation                    Code = "23505"
	CheckViolation                     Code = "23514"
	InvalidCursorState                 Code = "24000"
	InvalidTransactionState            Code = "25000"
	ActiveSQLTransaction               Code = "25001"
	NoActiveSQLTransaction             Code = "25P01"
	InFailedSQLTransaction             Code = "25P02"
	ReadOnlySQLTransaction             Code = "25006"
	InvalidSQLStatementName            Code = "26000"
	InvalidAuthorizationSpecification  Code = "28000"
	InvalidPassword                    Code = "28P01"
	InvalidCursorName                  Code = "34000"
	SerializationFailure               Code = "40001"
	DeadlockDetected                   Code = "40P01"
	SyntaxError                        Code = "42601"
	InsufficientPrivilege              Code = "42501"
	UndefinedColumn                    Code = "42703"
	UndefinedFunction                  Code = "42883"
	UndefinedTable                     Code = "42P01"
	UndefinedParameter                 Code = "42P02"
	UndefinedObject                    Code = "42704"
	UndefinedSchema                    Code = "3F000"
	DuplicateColumn                    Code = "42701"
	DuplicateCursor                    Code = "42P03"
	DuplicateDatabase                  Code = "42P04"
	DuplicatePreparedStatement         Code = "42P05"
	DuplicateSchema                    Code = "42P06"
	DuplicateTable                     Code = "42P07"
	DuplicateObject                    Code = "42710"
	AmbiguousColumn                    Code = "42702"
	AmbiguousFunction                  Code = "42725"
	AmbiguousParameter                 Code = "42P08"
	GroupingError                      Code = "42803"
	DatatypeMismatch                   Code = "42804"
	WrongObjectType                    Code = "42809"
	InvalidColumnReference             Code = "42P10"
	InvalidObjectDefinition            Code = "42P17"
	IndeterminateDatatype              Code = "42P18"
	InvalidTableDefinition             Code = "42P16"
	InvalidSchemaName                  Code = "3F000"
	CannotCoerce                       Code = "42846"
	UndefinedDatabase                  Code = "3D000"
	ProgramLimitExceeded               Code = "54000"
	TooManyConnections                 Code = "53300"
	OutOfMemory                        Code = "53200"
	DiskFull                           Code = "53100"
	ObjectNotInPrerequisiteState       Code = "55000"
	QueryCanceled                      Code = "57014"
	AdminShutdown                      Code = "57P01"
	CannotConnectNow                   Code = "57P03"
	IdleInTransactionSessionTimeout    Code = "25P03"
	ProtocolViolation                  Code = "08P01"
	ConnectionException                Code = "08000"
	ConnectionFailure                  Code = "08006"
	DataCorrupted                      Code = "XX001"
	InternalError                      Code = "XX000"
	ConfigFileError                    Code = "F0000"
	InvalidRecursion                   Code = "42P19"
	WindowingError                     Code = "42P20"
	InvalidRowCountInLimitClause       Code = "2201W"
	InvalidRowCountInResultOffset      Code = "2201X"
	InvalidArgumentForLogarithm        Code = "2201E"
	InvalidArgumentForPowerFunction    Code = "2201F"
	InvalidRegularExpression           Code = "2201B"
	ZeroLengthCharacterString          Code = "2200F"
	StringDataLengthMismatch           Code = "22026"
	SubstringError                     Code = "22011"
	UntranslatableCharacter            Code = "22P05"
	InvalidPrecedingOrFollowingSize    Code = "22013"
	ArraySubscriptError                Code = "2202E"
	InvalidDatetimeFormatTemplate      Code = "22007"
	InvalidRoleSpecification           Code = "0P000"
	DependentObjectsStillExist         Code = "2BP01"
	InvalidPreparedStatementDefinition Code = "42P14"
	CantChangeRuntimeParam             Code = "55P02"
	BadCopyFileFormat                  Code = "22P04"
)

// Class is the first two characters of a SQLSTATE: the error class.
func (c Code) Class() string {
	if len(c) < 2 {
		return ""
	}
	return string(c[:2])
}

// Severity of an ErrorResponse or NoticeResponse.
type Severity string

const (
	SeverityError   Severity = "ERROR"
	SeverityFatal   Severity = "FATAL"
	SeverityWarning Severity = "WARNING"
	SeverityNotice  Severity = "NOTICE"
)

// Error is a Postgres error: what a client sees in an ErrorResponse.
// Position is 1-based in characters of the query text; 0 means none.
type Error struct {
	Code       Code
	Severity   Severity
	Message    string
	Detail     string
	Hint       string
	Position   int
	Table      string
	Column     string
	Constraint string
	// Cause is the underlying Go error, if any; it is not sent to clients.
	Cause error
}

func (e *Error) Error() string {
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New makes an error with a code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Severity: SeverityError, Message: fmt.Sprintf(format, args...)}
}

// Wrap gives err a code, keeping err as the cause and its text as the message.
// An err that already carries a code keeps it.
func Wrap(err error, code Code, context string) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	msg := err.Error()
	if context != "" {
		msg = context + ": " + msg
	}
	return &Error{Code: code, Severity: SeverityError, Message: msg, Cause: err}
}

// WithDetail returns e with Detail set.
func (e *Error) WithDetail(format string, args ...any) *Error {
	e.Detail = fmt.Sprintf(format, args...)
	return e
}

// WithHint returns e with Hint set.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// WithPosition returns e with Position set.
func (e *Error) WithPosition(pos int) *Error {
	e.Position = pos
	return e
}

// CodeOf returns the SQLSTATE that err carries, or InternalError.
func CodeOf(err error) Code {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return Code(coded.SQLState())
	}
	return InternalError
}

// From turns any error into an *Error: one that carries a code is returned as
// is (or translated, for errors that implement SQLState), anything else
// becomes XX000 with its text.
func From(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return &Error{Code: Code(coded.SQLState()), Severity: SeverityError, Message: err.Error(), Cause: err}
	}
	return &Error{Code: InternalError, Severity: SeverityError, Message: err.Error(), Cause: err}
}
