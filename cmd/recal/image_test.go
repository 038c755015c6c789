package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// ociImage is what the test reads of an OCI image layout.
type ociImage struct {
	manifestDigest string
	config         struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			User       string            `json:"User"`
			Env        []string          `json:"Env"`
			Entrypoint []string          `json:"Entrypoint"`
			Cmd        []string          `json:"Cmd"`
			StopSignal string            `json:"StopSignal"`
			Labels     map[string]string `json:"Labels"`
		} `json:"config"`
	}
	files map[string]*tar.Header
	data  map[string][]byte
}

func readBlob(t *testing.T, layout, digest string) []byte {
	t.Helper()
	algo, hex, ok := strings.Cut(digest, ":")
	if !ok {
		t.Fatalf("digest %q", digest)
	}
	b, err := os.ReadFile(filepath.Join(layout, "blobs", algo, hex))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readImage reads the image tagged tag in an OCI layout: its manifest,
// config and every file of its layers.
func readImage(t *testing.T, layout, tag string) *ociImage {
	t.Helper()
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	img := &ociImage{files: map[string]*tar.Header{}, data: map[string][]byte{}}
	for _, m := range index.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] == tag {
			img.manifestDigest = m.Digest
		}
	}
	if img.manifestDigest == "" {
		t.Fatalf("no image tagged %s in %s", tag, layout)
	}
	var man struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(readBlob(t, layout, img.manifestDigest), &man); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readBlob(t, layout, man.Config.Digest), &img.config); err != nil {
		t.Fatal(err)
	}
	for _, l := range man.Layers {
		zr, err := gzip.NewReader(bytes.NewReader(readBlob(t, layout, l.Digest)))
		if err != nil {
			t.Fatalf("layer %s (%s): %v", l.Digest, l.MediaType, err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
			img.files[name] = h
			if h.Typeflag == tar.TypeReg {
				if img.data[name], err = io.ReadAll(tr); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return img
}

// TestOCIImage builds recal's container image from the static binary with
// deploy/oci/build-image.sh (umoci, offline), and checks it: the config
// (entrypoint, non-root user, TMPDIR, SIGTERM), that the layer holds
// exactly the binary, CA certificates, passwd/group and /tmp, with no
// shell, that the binary is static, that two builds give the same image,
// and (as root) that the binary runs from the unpacked image's root file
// system alone, as the non-root user.
func TestOCIImage(t *testing.T) {
	skipInRacePass(t)
	umoci := os.Getenv("RECAL_UMOCI")
	if umoci == "" {
		t.Skip("RECAL_UMOCI is not set; `make test` installs Debian's umoci and sets it")
	}
	bin := staticBinary(t)
	dir := t.TempDir()
	build := func(layout string) {
		t.Helper()
		cmd := exec.Command("sh", "../../deploy/oci/build-image.sh", bin, layout, "test")
		cmd.Env = append(os.Environ(), "UMOCI="+umoci, "SOURCE_DATE_EPOCH=1767225600")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build-image.sh: %v\n%s", err, out)
		}
	}
	build(filepath.Join(dir, "a"))
	img := readImage(t, filepath.Join(dir, "a"), "test")
	c := img.config.Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/recal"}) || c.User != "65532:65532" || c.StopSignal != "SIGTERM" ||
		!slices.Contains(c.Env, "TMPDIR=/tmp") || img.config.OS != "linux" {
		t.Fatalf("image config: %+v", img.config)
	}
	want := map[string]bool{"usr/local/bin/recal": true, "etc/ssl/certs/ca-certificates.crt": true, "etc/passwd": true, "etc/group": true}
	for name, h := range img.files {
		switch {
		case h.Typeflag == tar.TypeDir:
			if name == "tmp/" && h.Mode&0o1777 != 0o1777 {
				t.Errorf("/tmp has mode %o, want 1777", h.Mode)
			}
		case want[name]:
			delete(want, name)
		default:
			t.Errorf("unexpected file in the image: %s (a shell or other tool would not belong here)", name)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s is owned by %d:%d, not root: the non-root user must not be able to change it", name, h.Uid, h.Gid)
		}
	}
	if len(want) != 0 {
		t.Fatalf("the image lacks %v", want)
	}
	if img.files["usr/local/bin/recal"].Mode&0o111 == 0 {
		t.Fatal("the binary is not executable")
	}
	if _, ok := img.files["tmp/"]; !ok {
		t.Fatal("no /tmp in the image")
	}
	if !strings.Contains(string(img.data["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Fatalf("passwd has no user 65532: %s", img.data["etc/passwd"])
	}
	ef, err := elf.NewFile(bytes.NewReader(img.data["usr/local/bin/recal"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary in the image needs a dynamic loader: it is not static")
		}
	}
	build(filepath.Join(dir, "b"))
	if again := readImage(t, filepath.Join(dir, "b"), "test"); again.manifestDigest != img.manifestDigest {
		t.Errorf("two builds of one binary gave images %s and %s", img.manifestDigest, again.manifestDigest)
	}

	if os.Geteuid() != 0 {
		t.Log("not root: the image's root file system is not run")
		return
	}
	bundle := filepath.Join(dir, "bundle")
	if out, err := exec.Command(umoci, "unpack", "--image", filepath.Join(dir, "a")+":test", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, out)
	}
	// chroot into the image's files, as its user, with only its
	// environment: the policy check reads embedded data, time zones and
	// nothing from the host.
	for _, args := range [][]string{{"version"}, {"validate", "--policy", "castro-tum-2018"}, {"run", "--help"}} {
		cmd := exec.Command("chroot", append([]string{"--userspec=65532:65532", filepath.Join(bundle, "rootfs"), "/usr/local/bin/recal"}, args...)...)
		cmd.Env = append([]string{}, c.Env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("recal %s inside the image: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "version" && !strings.Contains(string(out), "recal test-static") {
			t.Fatalf("recal version inside the image: %s", out)
		}
	}
}

// flagNames returns the flags a command's --help lists.
func flagNames(t *testing.T, command string) map[string]bool {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{command, "--help"}, &out, &errb); code != 0 {
		t.Fatalf("%s --help: exit %d", command, code)
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(errb.String()+out.String(), -1) {
		names[m[1]] = true
	}
	return names
}

// checkEnv requires every RECAL_ variable of a deployment example to name
// a flag of the command it runs.
func checkEnv(t *testing.T, file, command string, names []string) {
	t.Helper()
	flags := flagNames(t, command)
	for _, n := range names {
		if !strings.HasPrefix(n, "RECAL_") {
			continue
		}
		f := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(n, "RECAL_"), "_", "-"))
		if !flags[f] {
			t.Errorf("%s: %s names no flag of recal %s", file, n, command)
		}
	}
}

// TestDeployExamples checks the examples under deploy/ against the command
// line and contract §4: each RECAL_ variable is a flag of the command the
// example runs; the Kubernetes Jobs fail on exit 64, 65 and 78 and retry on
// 69, 74 and 75, run as non-root on a read-only root file system with /tmp
// writable; the Indexed Job's RECAL_SHARD_COUNT equals its completions; the
// AWS Batch definition maps the same codes; the Dockerfile builds a static
// binary and runs it as non-root with SIGTERM.
func TestDeployExamples(t *testing.T) {
	type container struct {
		Name string   `yaml:"name"`
		Args []string `yaml:"args"`
		Env  []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		SecurityContext struct {
			ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	var k8sJob struct {
		Kind string `yaml:"kind"`
		Spec struct {
			CompletionMode   string `yaml:"completionMode"`
			Completions      int    `yaml:"completions"`
			PodFailurePolicy struct {
				Rules []struct {
					Action      string `yaml:"action"`
					OnExitCodes *struct {
						ContainerName string `yaml:"containerName"`
						Operator      string `yaml:"operator"`
						Values        []int  `yaml:"values"`
					} `yaml:"onExitCodes"`
				} `yaml:"rules"`
			} `yaml:"podFailurePolicy"`
			Template struct {
				Spec struct {
					RestartPolicy   string `yaml:"restartPolicy"`
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
						RunAsUser    int  `yaml:"runAsUser"`
					} `yaml:"securityContext"`
					Containers []container `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	for _, c := range []struct {
		file, command string
		indexed       bool
		cron          bool
	}{{"shards-job.yaml", "run", true, false}, {"merge-job.yaml", "merge", false, false}, {"nightly-cronjob.yaml", "run", false, true}} {
		b, err := os.ReadFile(filepath.Join("../../deploy/kubernetes", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if c.cron { // a CronJob: its jobTemplate is checked as a Job
			var cj struct {
				Kind string `yaml:"kind"`
				Spec struct {
					ConcurrencyPolicy string         `yaml:"concurrencyPolicy"`
					JobTemplate       map[string]any `yaml:"jobTemplate"`
				} `yaml:"spec"`
			}
			if err := yaml.Unmarshal(b, &cj); err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if cj.Kind != "CronJob" || cj.Spec.ConcurrencyPolicy != "Forbid" {
				t.Fatalf("%s: kind %s, concurrencyPolicy %s: want a CronJob that never runs two nights at once", c.file, cj.Kind, cj.Spec.ConcurrencyPolicy)
			}
			cj.Spec.JobTemplate["kind"] = "Job"
			if b, err = yaml.Marshal(cj.Spec.JobTemplate); err != nil {
				t.Fatal(err)
			}
		}
		j := k8sJob
		if err := yaml.Unmarshal(b, &j); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		s := j.Spec
		if j.Kind != "Job" || s.Template.Spec.RestartPolicy != "Never" || len(s.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: kind %s, restartPolicy %s, %d containers", c.file, j.Kind, s.Template.Spec.RestartPolicy, len(s.Template.Spec.Containers))
		}
		ctr := s.Template.Spec.Containers[0]
		if !slices.Equal(ctr.Args, []string{c.command}) {
			t.Errorf("%s: args %v, want [%s]", c.file, ctr.Args, c.command)
		}
		codes := map[string][]int{}
		for _, r := range s.PodFailurePolicy.Rules {
			if r.OnExitCodes != nil {
				if r.OnExitCodes.ContainerName != ctr.Name || r.OnExitCodes.Operator != "In" {
					t.Errorf("%s: rule %+v", c.file, *r.OnExitCodes)
				}
				codes[r.Action] = append(codes[r.Action], r.OnExitCodes.Values...)
			}
		}
		for _, code := range []int{64, 65, 78} {
			if !slices.Contains(codes["FailJob"], code) {
				t.Errorf("%s: exit %d does not fail the Job (FailJob %v)", c.file, code, codes["FailJob"])
			}
		}
		for _, code := range []int{69, 74, 75} {
			if !slices.Contains(codes["Count"], code) || slices.Contains(codes["FailJob"], code) {
				t.Errorf("%s: exit %d is not retried (Count %v)", c.file, code, codes["Count"])
			}
		}
		sc := s.Template.Spec.SecurityContext
		if !sc.RunAsNonRoot || sc.RunAsUser == 0 || !ctr.SecurityContext.ReadOnlyRootFilesystem ||
			!slices.ContainsFunc(ctr.VolumeMounts, func(v struct {
				MountPath string `yaml:"mountPath"`
			}) bool {
				return v.MountPath == "/tmp"
			}) {
			t.Errorf("%s: not non-root on a read-only root with /tmp mounted", c.file)
		}
		var names []string
		count := ""
		for _, e := range ctr.Env {
			names = append(names, e.Name)
			if e.Name == "RECAL_SHARD_COUNT" {
				count = e.Value
			}
		}
		checkEnv(t, c.file, c.command, names)
		if c.indexed && (s.CompletionMode != "Indexed" || count != strconv.Itoa(s.Completions)) {
			t.Errorf("%s: completionMode %s, completions %d, RECAL_SHARD_COUNT %q", c.file, s.CompletionMode, s.Completions, count)
		}
	}

	var batch struct {
		RetryStrategy struct {
			EvaluateOnExit []struct {
				OnExitCode string `json:"onExitCode"`
				Action     string `json:"action"`
			} `json:"evaluateOnExit"`
		} `json:"retryStrategy"`
		ContainerProperties struct {
			Command                []string `json:"command"`
			User                   string   `json:"user"`
			ReadonlyRootFilesystem bool     `json:"readonlyRootFilesystem"`
			Environment            []struct {
				Name string `json:"name"`
			} `json:"environment"`
		} `json:"containerProperties"`
	}
	b, err := os.ReadFile("../../deploy/aws-batch/job-definition.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &batch); err != nil {
		t.Fatalf("job-definition.json: %v", err)
	}
	action := map[string]string{}
	for _, e := range batch.RetryStrategy.EvaluateOnExit {
		if e.OnExitCode != "" {
			if _, seen := action[e.OnExitCode]; !seen { // the first match wins
				action[e.OnExitCode] = e.Action
			}
		}
	}
	for code, want := range map[string]string{"64": "EXIT", "65": "EXIT", "78": "EXIT", "69": "RETRY", "74": "RETRY", "75": "RETRY"} {
		if action[code] != want {
			t.Errorf("job-definition.json: exit %s → %q, want %s", code, action[code], want)
		}
	}
	cp := batch.ContainerProperties
	if !slices.Equal(cp.Command, []string{"run"}) || cp.User == "" || strings.HasPrefix(cp.User, "0") || !cp.ReadonlyRootFilesystem {
		t.Errorf("job-definition.json: command %v, user %q, read-only root %v", cp.Command, cp.User, cp.ReadonlyRootFilesystem)
	}
	var names []string
	for _, e := range cp.Environment {
		names = append(names, e.Name)
	}
	checkEnv(t, "job-definition.json", "run", names)

	df, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"CGO_ENABLED=0 go build", "USER 65532:65532", "STOPSIGNAL SIGTERM", `ENTRYPOINT ["/usr/local/bin/recal"]`} {
		if !strings.Contains(string(df), line) {
			t.Errorf("Dockerfile lacks %q", line)
		}
	}
}
