package iceberg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // registers the s3:// FileIO
	"github.com/apache/iceberg-go/utils"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Config says how to reach an s3:// warehouse. Credentials are not here:
// they come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, ...).
type S3Config struct {
	// Endpoint is the S3 service URL (e.g. http://127.0.0.1:7070 for MinIO
	// or versitygw); empty means AWS.
	Endpoint string
	// Region; empty means AWS_REGION, or us-east-1.
	Region string
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key; nil means on exactly when Endpoint is set.
	PathStyle *bool
}

// pathStyle resolves PathStyle's default.
func (c S3Config) pathStyle() bool {
	if c.PathStyle != nil {
		return *c.PathStyle
	}
	return c.Endpoint != ""
}

// ClientProperties are the Iceberg FileIO properties (the names Java,
// pyiceberg and iceberg-go share) that let a reader reach this warehouse's
// files: the REST catalog hands them to clients. No credentials.
func (c S3Config) ClientProperties(region string) map[string]string {
	p := map[string]string{
		"s3.region":                   region,
		"client.region":               region,
		"s3.path-style-access":        strconv.FormatBool(c.pathStyle()),
		"s3.force-virtual-addressing": strconv.FormatBool(!c.pathStyle()),
	}
	if c.Endpoint != "" {
		p["s3.endpoint"] = c.Endpoint
	}
	return p
}

// s3Store is a warehouse under s3://bucket/prefix.
type s3Store struct {
	client *s3.Client
	bucket string
	prefix string // no leading or trailing "/"; may be empty
	region string
	fio    icebergio.IO
}

// S3 requests that outlive these are failures: an unreachable or hung
// server must not stall compaction forever (the next pass retries).
const (
	s3DialTimeout     = 10 * time.Second
	s3ResponseTimeout = 2 * time.Minute
)

func newS3Store(ctx context.Context, warehouse *url.URL, cfg S3Config, props map[string]string) (*s3Store, error) {
	bucket := warehouse.Host
	if bucket == "" {
		return nil, fmt.Errorf("warehouse %s: no bucket", warehouse)
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = s3DialTimeout }).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = s3ResponseTimeout })))
	awscfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: AWS configuration: %w", warehouse, err)
	}
	if awscfg.Region == "" {
		// Signing needs a region even for S3-compatible servers that ignore it.
		awscfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awscfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.pathStyle()
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	// iceberg-go's S3 FileIO (gocloud) for data files and manifests, on the
	// same AWS configuration (credentials, region, HTTP client).
	ioProps := map[string]string{}
	for k, v := range props {
		ioProps[k] = v
	}
	for k, v := range cfg.ClientProperties(awscfg.Region) {
		if _, set := ioProps[k]; !set {
			ioProps[k] = v
		}
	}
	fio, err := icebergio.LoadFS(utils.WithAwsConfig(context.Background(), &awscfg), ioProps, "s3://"+bucket)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: S3 file IO: %w", warehouse, err)
	}
	return &s3Store{
		client: client,
		bucket: bucket,
		prefix: strings.Trim(warehouse.Path, "/"),
		region: awscfg.Region,
		fio:    fio,
	}, nil
}

func (s *s3Store) key(key string) string { return joinKey(s.prefix, key) }

func (s *s3Store) location(key string) string { return "s3://" + s.bucket + "/" + s.key(key) }

func (s *s3Store) get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(key))})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", s.location(key), fs.ErrNotExist)
		}
		return nil, fmt.Errorf("get %s: %w", s.location(key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", s.location(key), err)
	}
	return b, nil
}

func (s *s3Store) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(key))})
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("head %s: %w", s.location(key), err)
}

// putIfAbsent is a PUT with If-None-Match: *: S3 (since 2024), MinIO and
// versitygw create the object only if the key is free, atomically, and
// answer 412 Precondition Failed (or 409 when a concurrent conditional
// write is in flight) otherwise.
func (s *s3Store) putIfAbsent(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           aws.String(s.key(key)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		IfNoneMatch:   aws.String("*"),
	})
	if err != nil {
		if code := httpStatus(err); code == http.StatusPreconditionFailed || code == http.StatusConflict {
			return fmt.Errorf("%s: %w", s.location(key), fs.ErrExist)
		}
		return fmt.Errorf("put %s: %w", s.location(key), err)
	}
	return nil
}

func (s *s3Store) put(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           aws.String(s.key(key)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", s.location(key), err)
	}
	return nil
}

// mkdir writes a folder marker ("key/", empty), as S3 consoles do.
func (s *s3Store) mkdir(ctx context.Context, key string) error {
	return s.put(ctx, key+"/", nil)
}

func (s *s3Store) isDir(ctx context.Context, key string) (bool, error) {
	out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: aws.String(s.key(key) + "/"), MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return false, fmt.Errorf("list %s: %w", s.location(key), err)
	}
	return len(out.Contents) > 0 || len(out.CommonPrefixes) > 0, nil
}

func (s *s3Store) dirs(ctx context.Context, key string) ([]string, error) {
	prefix := s.key(key)
	if prefix != "" {
		prefix += "/"
	}
	var out []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: aws.String(prefix), Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.location(key), err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

func (s *s3Store) files(ctx context.Context, key, namePrefix string, limit int) ([]string, error) {
	dir := s.key(key) + "/"
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(dir + namePrefix), Delimiter: aws.String("/")}
	if limit > 0 {
		in.MaxKeys = aws.Int32(int32(limit))
	}
	var out []string
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.location(key), err)
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(aws.ToString(o.Key), dir))
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}

func (s *s3Store) fileIO() icebergio.IO { return s.fio }

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isNotFound(err error) bool {
	if httpStatus(err) == http.StatusNotFound {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}
